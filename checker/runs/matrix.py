"""The revision x ring-size verdict matrix (``vhostmc matrix``).

Every combination of revision, ring size and environment (and, when the
fairness axis is given, fairness preset) is one *cell*: one explicit-engine
run through :func:`checker.runs.check.run_check` (the code path of ``vhostmc
check``), writing its traces and ``result.json`` under
``DIR/cells/<revision>-n<N>-<env>/`` (``...-<env>-<fairness>/`` with the
fairness axis).  The matrix has one row per property and environment (and
fairness preset) and one column per revision and ring size; it is written
as ``matrix.md`` (with links to each counterexample's ITF trace),
``matrix.csv`` and ``matrix.png`` (a heat map) by :mod:`checker.runs.matrixtable`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.engines.base import Limits, StopCheck
from checker.lang.model import ModelError
from checker.lang.view import ModelBug
from checker.runs.catalog import load_revision
from checker.runs.check import CheckRequest, prepare, run_check
from checker.runs.environments import get_environment
from checker.runs.fairness import get_fairness
from checker.runs.matrixcells import Cell, MatrixResult
from checker.runs.matrixtable import write_outputs

CELL_FORMATS: tuple[str, ...] = ("itf", "text")
"""Trace formats a matrix cell writes (the ITF, on one line, is what the matrix links to)."""

MAX_RING_SIZES = 256
"""Most ring sizes one --ring-sizes value may name."""


def parse_ring_sizes(text: str) -> list[int]:
    """``"1-3"`` -> ``[1, 2, 3]``, ``"1,2,4"`` -> ``[1, 2, 4]`` (ranges and lists mix).

    Raises :class:`ValueError` with a message for the user.
    """
    sizes: dict[int, None] = {}
    for part in text.split(","):
        item = part.strip()
        lo_text, dash, hi_text = item.partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if dash else lo
        except ValueError:
            raise ValueError(
                f"'{item}' is not a ring size or range; write e.g. 1-3 or 1,2,4"
            ) from None
        if lo < 1:
            raise ValueError(f"ring sizes must be at least 1, not {lo}")
        if hi < lo:
            raise ValueError(f"range '{item}' is empty; write the smaller size first")
        if hi - lo + 1 > MAX_RING_SIZES or len(sizes) + hi - lo + 1 > 2 * MAX_RING_SIZES:
            raise ValueError(f"'{item}' names {hi - lo + 1} ring sizes; at most "
                             f"{MAX_RING_SIZES} at once")
        sizes.update(dict.fromkeys(range(lo, hi + 1)))
    if len(sizes) > MAX_RING_SIZES:
        raise ValueError(f"{len(sizes)} ring sizes; at most {MAX_RING_SIZES} at once")
    return list(sizes)


def parse_list(text: str, what: str) -> list[str]:
    """A comma-separated list with no empty entry; :class:`ValueError` otherwise."""
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise ValueError(f"empty {what} in '{text}'; separate {what}s with single commas")
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class MatrixPlan:
    """What to run: revisions (names or files) x ring sizes x environments, and
    x fairness presets when ``fairness`` names any."""

    revisions: Sequence[str]
    ring_sizes: Sequence[int]
    envs: Sequence[str]
    fairness: Sequence[str] = ()
    properties: Sequence[str] = ()
    specs: Sequence[str] = ()
    limits: Limits = field(default_factory=Limits)
    out_dir: Path = Path("vhostmc-matrix")

    def command(self, jobs: int) -> str:
        """The command line that reproduces this matrix (written at the top of matrix.md)."""
        sizes = list(self.ring_sizes)
        span = list(range(sizes[0], sizes[-1] + 1)) if sizes else []
        ring = (f"{sizes[0]}-{sizes[-1]}" if len(sizes) > 1 and sizes == span
                else ",".join(map(str, sizes)))
        parts = ["vhostmc", "matrix", "--revisions", ",".join(self.revisions),
                 "--ring-sizes", ring, "--envs", ",".join(self.envs)]
        if self.fairness:
            parts += ["--fairness", ",".join(self.fairness)]
        for prop in self.properties:
            parts += ["--property", prop]
        for spec in self.specs:
            parts += ["--spec", spec]
        for option, limit in (("--time-limit", self.limits.time_limit),
                              ("--max-states", self.limits.max_states),
                              ("--max-depth", self.limits.max_depth),
                              ("--memory-limit", self.limits.memory_limit)):
            if limit is not None:
                parts += [option, str(limit) if isinstance(limit, int) else f"{limit:g}"]
        parts += ["--jobs", str(jobs), "--out", self.out_dir.as_posix()]
        return " ".join(shlex.quote(p) for p in parts)

    def fairness_axis(self) -> list[str | None]:
        """The fairness presets, or ``[None]`` without the fairness axis."""
        return list(self.fairness) or [None]

    @staticmethod
    def params(ring_size: int, env: str, fairness: str | None,
               revision: str | None = None) -> dict[str, Any]:
        """The model parameters of a cell: the ring size, the switches of ``revision``'s
        environment ``env`` (by default the default revision's), then the fairness
        preset's.  Raises :class:`ModelError` for an unknown preset."""
        switches = get_fairness(fairness).switches if fairness is not None else {}
        return {"ring_size": ring_size, **get_environment(env, revision).switches, **switches}

    def request(self, cell: Cell) -> CheckRequest:
        """The check a cell runs."""
        params = self.params(cell.ring_size, cell.env, cell.fairness, cell.revision)
        return CheckRequest(revision=cell.revision, params=params,
                            properties=tuple(self.properties), specs=tuple(self.specs),
                            limits=self.limits, out_dir=self.out_dir / "cells" / cell.key,
                            formats=CELL_FORMATS, itf_indent=None)


def plan_cells(plan: MatrixPlan) -> tuple[list[Cell], list[str]]:
    """Every cell, each prepared once (model built, properties evaluated on its
    initial state) so that bad input fails before any search; and the
    property names in row order.  Raises :class:`ModelError`."""
    for preset in plan.fairness:
        get_fairness(preset)
    axes = [(n, env, fair) for n in plan.ring_sizes for env in plan.envs
            for fair in plan.fairness_axis()]
    for revision in plan.revisions:  # cheap: parameters only, before building any model
        model_cls = load_revision(revision)
        for n, env, fair in axes:
            model_cls.resolve_params(plan.params(n, env, fair, revision))
    cells: list[Cell] = []
    prop_names: list[str] = []
    labels: dict[str, str] = {}
    for revision in plan.revisions:
        for n, env, fair in axes:
            cell = Cell(revision, labels.get(revision, revision), n, env, fair)
            model, props = prepare(plan.request(cell))
            labels.setdefault(revision, model.name)
            cells.append(Cell(revision, model.name, n, env, fair))
            prop_names = prop_names or [p.name for p in props]
    seen: dict[str, str] = {}
    for revision, label in labels.items():
        if label in seen:
            raise ModelError(f"revisions {seen[label]} and {revision} are both named '{label}'; "
                             "set a distinct `name` in the revision class")
        seen[label] = revision
    return cells, prop_names


_worker_signal: str | None = None
"""In a worker process: the signal that asked it to stop, if one came."""


def _worker_stop() -> str | None:
    return _worker_signal


def _worker_init() -> None:
    """In each worker of ``--jobs N``: SIGINT/SIGTERM stop the running cell cleanly, and
    the worker gets SIGTERM when its parent dies (Linux)."""

    def handle(signum: int, frame: object) -> None:
        global _worker_signal
        _worker_signal = _worker_signal or signal.Signals(signum).name

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_cell(plan: MatrixPlan, cell: Cell, stop: StopCheck | None = None) -> dict[str, Any]:
    """Run one cell (in a worker process when --jobs > 1); its result document.

    A cell that fails (the model is inconsistent, a property raises) gives
    ``{"error": message}`` instead, so the other cells' work is kept.  In a worker,
    ``stop`` is the worker's own signal flag.
    """
    stop = stop or _worker_stop
    if stop() is not None:
        return not_run(stop() or "SIGINT")
    out = plan.out_dir / "cells" / cell.key
    if out.is_dir():
        shutil.rmtree(out)
    try:
        return run_check(plan.request(cell), stop=stop).doc
    except ModelBug as err:
        return {"error": f"the model is inconsistent: {err} (fix the revision)"}
    except ModelError as err:
        return {"error": str(err)}


def not_run(why: str) -> dict[str, Any]:
    """The document of a cell a signal kept from running."""
    return {"not_run": "interrupted", "bounds_hit": [f"interrupted ({why}) before it ran"]}


def run_matrix(
    plan: MatrixPlan,
    jobs: int = 1,
    on_cell: Callable[[Cell, dict[str, Any]], None] | None = None,
    command: str | None = None,
    stop: StopCheck | None = None,
) -> MatrixResult:
    """Run every cell (``jobs`` at a time) and write matrix.md, .csv and .png;
    ``command`` (the command line that reproduces the matrix) heads matrix.md.
    When ``stop`` returns a signal name, running cells end early (inconclusive),
    the others are not started, and the matrix is written with what was found."""
    cells, props = plan_cells(plan)
    result = MatrixResult(cells, props, list(plan.envs), fairness=list(plan.fairness))
    order = sorted(cells, key=lambda c: c.ring_size)  # quick cells first: early feedback
    stop = stop or (lambda: None)

    def record(cell: Cell, doc: dict[str, Any]) -> None:
        result.docs[cell] = doc
        if on_cell is not None and "not_run" not in doc:
            on_cell(cell, doc)

    if jobs <= 1:
        for cell in order:
            record(cell, _run_cell(plan, cell, stop) if stop() is None
                   else not_run(stop() or "SIGINT"))
    else:
        _run_parallel(plan, order, jobs, record, stop)
    result.stopped = stop()
    write_outputs(result, plan.out_dir, command)
    return result


def _run_parallel(plan: MatrixPlan, order: list[Cell], jobs: int,
                  record: Callable[[Cell, dict[str, Any]], None], stop: StopCheck) -> None:
    """Run the cells in ``jobs`` worker processes; on ``stop``, pass the signal on to the
    workers (their cells end cleanly) and cancel the cells not started."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
    try:
        futures: dict[Future[dict[str, Any]], Cell] = {
            pool.submit(_run_cell, plan, cell): cell for cell in order}
        remaining = set(futures)
        passed_on = False
        while remaining:
            done, remaining = wait(remaining, timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                cell = futures[fut]
                record(cell, not_run(stop() or "SIGINT") if fut.cancelled() else fut.result())
            why = stop()
            if why is not None and not passed_on:
                passed_on = True
                for fut in remaining:
                    fut.cancel()
                _signal_workers(pool, signal.SIGTERM)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def _signal_workers(pool: ProcessPoolExecutor, sig: int) -> None:
    """Send ``sig`` to every live worker process of ``pool``."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        if proc.is_alive() and proc.pid is not None:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel queued cells and end the worker processes this pool started."""
    workers = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        if proc.is_alive():
            proc.terminate()
