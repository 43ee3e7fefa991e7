"""Checks several test modules share: running the CLI in-process, replaying a
trace of canonical states."""

from __future__ import annotations

import pytest

from checker.engines.base import RunResult
from checker.lang.model import Model
from checker.semantics.canon import canonicalizer
from checker.semantics.states import fire, initial_state


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``vhostmc *args`` in this process: its exit code, stdout and stderr."""
    from checker.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def replays_canonically(model: Model, res: RunResult) -> None:
    """Each trace of ``res`` starts in canon(initial) and each step is the canon of a
    model transition from the step before (traces of a reduced or symmetric search)."""
    canon = canonicalizer(model)
    for p in res.properties:
        if p.trace is None:
            continue
        before = p.trace.initial
        assert before == canon(initial_state(model))
        for step in p.trace.steps:
            after = fire(model, model.instance(step.label), before)
            assert after is not None and canon(after) == step.state
            before = step.state
