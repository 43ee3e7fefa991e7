"""docs/model.md keeps up with the model: every action is documented."""

from __future__ import annotations

from pathlib import Path

from models.v9 import V9

DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"


def test_every_v9_action_is_in_model_md() -> None:
    text = DOC.read_text()
    missing = [a.name for a in V9({"ring_size": 1}).action_specs if f"`{a.name}" not in text]
    assert missing == []


def test_every_action_quotes_code_and_names_a_function() -> None:
    for spec in V9({"ring_size": 1}).action_specs:
        assert spec.code.strip(), spec.name
        assert spec.function.strip(), spec.name


def test_readme_test_command_is_what_ci_runs() -> None:
    """README says its test command "is what .ci/run runs": keep the two the same."""
    root = DOC.parent.parent
    readme = (root / "README.md").read_text()
    block = readme.split("this is what `.ci/run` runs", 1)[1].split("```sh\n", 1)[1]
    command = block.split("\n", 1)[0]
    assert command in (root / ".ci" / "run").read_text().splitlines()
