"""``vhostmc list``: revisions, engines, properties, parameters and fairness."""

from __future__ import annotations

import click

from checker.cli.app import (
    POSITIVE,
    _spec_option,
    cli,
)
from checker.engines.registry import engine_names, get_engine
from checker.lang.fairness import describe_all
from checker.runs.catalog import DEFAULT_REVISION, all_properties, load_revision, revision_names
from checker.runs.fairness import FAIRNESS_PRESETS


def engine_flag(option: str) -> str:
    """The ``vhostmc check`` flag of an engine option (``lift_from``: ``--lift-from``)."""
    return "--no-reduction" if option == "reduction" else "--" + option.replace("_", "-")


@cli.command(name="list")
@click.option("--ring-size", type=POSITIVE, default=2, show_default=True,
              help="Ring size used to show derived defaults.")
@click.option("--revision", default=DEFAULT_REVISION, show_default=True, metavar="NAME|PATH.py",
              help="Revision whose environments, parameters, assumptions and fairness to show.")
@_spec_option
def list_cmd(ring_size: int, revision: str, specs: tuple[str, ...]) -> None:
    """List revisions, engines, properties, environments, parameters and switches."""
    click.echo("Revisions:")
    for name in revision_names():
        cls = load_revision(name)
        click.echo(f"  {name:<10} {cls.description}")
    click.echo("\nEngines (vhostmc check --engine; docs/engines.md):")
    for name in engine_names():
        engine = get_engine(name)
        flags = ", ".join(sorted(engine_flag(option) for option in engine.options))
        click.echo(f"  {name:<10} {engine.description}" + (f" [{flags}]" if flags else ""))
    click.echo("\nProperties (kind: always = invariant; leads-to, eventually = liveness; "
               "sometimes = reachability):")
    for prop in all_properties(specs):
        click.echo(f"  {prop.name:<25} {prop.kind:<10} {prop.statement}")
    click.echo("\nEnvironments (vhostmc matrix --envs):")
    chosen = load_revision(revision)
    for env in chosen.environments:
        switches = " ".join(env.args()) or "(all defaults)"
        click.echo(f"  {env.name:<10} {switches}")
    click.echo("\nFairness presets (vhostmc matrix --fairness):")
    for preset in FAIRNESS_PRESETS.values():
        switches = " ".join(preset.args()) or "(all defaults)"
        click.echo(f"  {preset.name:<14} {switches:<32} {preset.description}")
    model = chosen({"ring_size": ring_size})
    values = model.p.as_dict()
    for title, is_env in (("Parameters", False), ("Environment switches", True)):
        click.echo(f"\n{title} (values at --ring-size {ring_size}):")
        for spec in chosen.parameters:
            if spec.environment == is_env:
                click.echo(f"  {spec.option:<24} {values[spec.name]!s:<10} {spec.help}")
    relations = model.relations()
    if relations:
        click.echo(f"\nRelations between scaled constants (at --ring-size {ring_size}; "
                   "a broken one is a warning):")
        for text, kept in relations:
            click.echo(f"  {'kept  ' if kept else 'BROKEN'} {text}")
    assumed = model.assumptions()
    if assumed:
        click.echo(f"\nEnvironment assumptions of {model.name}:")
        for a in assumed:
            click.echo(f"  - {a.describe()}")
    click.echo(f"\nFairness liveness is judged under ({model.name}, default switches; "
               "docs/model.md):")
    for text in describe_all(model.fairness()):
        click.echo(f"  - {text}")


