"""``vhostmc list``: revisions, properties, parameters and fairness."""

from __future__ import annotations

import click

from checker.cli.app import (
    _spec_option,
    cli,
)
from checker.lang.fairness import describe_all
from checker.runs.catalog import all_properties, load_revision, revision_names
from checker.runs.environments import ENVIRONMENTS
from models.v9.state import PARAMETERS, scaled_relations


@cli.command(name="list")
@click.option("--ring-size", type=int, default=2, show_default=True,
              help="Ring size used to show derived defaults.")
@_spec_option
def list_cmd(ring_size: int, specs: tuple[str, ...]) -> None:
    """List revisions, properties, environments, parameters and switches."""
    click.echo("Revisions:")
    for name in revision_names():
        cls = load_revision(name)
        click.echo(f"  {name:<10} {cls.description}")
    click.echo("\nProperties (kind: always = invariant; leads-to, eventually = liveness):")
    for prop in all_properties(specs):
        click.echo(f"  {prop.name:<25} {prop.kind:<10} {prop.statement}")
    click.echo("\nEnvironments (vhostmc matrix --envs):")
    for env in ENVIRONMENTS.values():
        switches = " ".join(env.args()) or "(all defaults)"
        click.echo(f"  {env.name:<10} {switches}")
    model = load_revision("v9")({"ring_size": ring_size})
    values = model.p.as_dict()
    for title, is_env in (("Parameters", False), ("Environment switches", True)):
        click.echo(f"\n{title} (values at --ring-size {ring_size}):")
        for spec in PARAMETERS:
            if spec.environment == is_env:
                click.echo(f"  {spec.option:<24} {values[spec.name]!s:<10} {spec.help}")
    click.echo(f"\nRelations between scaled constants (at --ring-size {ring_size}; "
               "a broken one is a warning):")
    for text, kept in scaled_relations(model.p):
        click.echo(f"  {'kept  ' if kept else 'BROKEN'} {text}")
    click.echo("\nFairness liveness is judged under (v9, default switches; docs/model.md):")
    for text in describe_all(model.fairness()):
        click.echo(f"  - {text}")


