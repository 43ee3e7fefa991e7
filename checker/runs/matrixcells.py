"""The matrix's cells and their results: what :mod:`checker.runs.matrix` runs and
:mod:`checker.runs.matrixtable` tabulates.

A :class:`Cell` is one run (revision, ring size, environment, fairness preset);
a :class:`MatrixResult` holds every cell's result document and says what each
cell's verdicts and the whole matrix's exit code are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checker.outputs.summary import (
    EXIT_HOLDS,
    EXIT_INCONCLUSIVE,
    EXIT_USAGE,
    EXIT_VIOLATED,
    SIGNAL_EXIT,
)


@dataclass(frozen=True)
class Cell:
    """One run of the matrix: a revision (name or file), a ring size, an environment
    and, on the fairness axis, a fairness preset (``None`` without that axis)."""

    revision: str
    label: str
    ring_size: int
    env: str
    fairness: str | None = None

    @property
    def key(self) -> str:
        """``<revision>-n<N>-<env>`` (``...-<env>-<fairness>`` on the fairness axis):
        the cell's folder under ``cells/``."""
        base = f"{self.label}-n{self.ring_size}-{self.env}"
        return base if self.fairness is None else f"{base}-{self.fairness}"

    @property
    def column(self) -> str:
        return f"{self.label} n={self.ring_size}"


@dataclass
class MatrixResult:
    """Every cell's result document, and the properties in row order."""

    cells: list[Cell]
    properties: list[str]
    envs: list[str]
    docs: dict[Cell, dict[str, Any]] = field(default_factory=dict)
    stopped: str | None = None
    """The signal that stopped the matrix early, if one did."""
    fairness: list[str] = field(default_factory=list)
    """The fairness presets of the fairness axis (empty: no such axis)."""

    def fairness_axis(self) -> list[str | None]:
        """The fairness presets, or ``[None]`` without the fairness axis."""
        return list(self.fairness) or [None]

    def rows(self) -> list[tuple[str, str, str | None]]:
        """``(environment, property, fairness)`` per table row, in order: by environment,
        then property, then fairness preset (so one property's presets are side by side)."""
        return [(env, prop, fair) for env in self.envs for prop in self.properties
                for fair in self.fairness_axis()]

    def verdict(self, cell: Cell, prop: str) -> dict[str, Any]:
        """The result document's entry for ``prop`` in ``cell`` (status ``error``
        for a cell that failed)."""
        doc = self.docs[cell]
        if "error" in doc:
            return {"name": prop, "status": "error", "length": None, "trace": None}
        if "not_run" in doc:
            return {"name": prop, "status": "inconclusive", "length": None, "trace": None,
                    "reason": "interrupted"}
        return next(p for p in doc["properties"] if p["name"] == prop)

    def errors(self) -> list[tuple[Cell, str]]:
        """``(cell, message)`` for each cell that failed, in cell order."""
        return [(c, self.docs[c]["error"]) for c in self.cells
                if c in self.docs and "error" in self.docs[c]]

    def statuses(self) -> list[str]:
        """Every cell's verdict of every property."""
        return [self.verdict(c, p)["status"] for c in self.cells if c in self.docs
                for p in self.properties]

    def exit_code(self) -> int:
        """130/143 if a signal stopped the matrix; else 2 if a cell failed; else 1 if any
        cell has a violation, else 3 if any is inconclusive, else 0."""
        if self.stopped is not None:
            return SIGNAL_EXIT.get(self.stopped, EXIT_INCONCLUSIVE)
        if self.errors():
            return EXIT_USAGE
        statuses = set(self.statuses())
        if "violated" in statuses:
            return EXIT_VIOLATED
        if "inconclusive" in statuses or not statuses:
            return EXIT_INCONCLUSIVE
        return EXIT_HOLDS

    def columns(self) -> list[tuple[str, int]]:
        """``(revision label, ring size)`` per column, in order."""
        return list(dict.fromkeys((c.label, c.ring_size) for c in self.cells))

    def cell(self, label: str, ring_size: int, env: str, fairness: str | None = None) -> Cell:
        """The cell of that revision label, ring size, environment and fairness preset."""
        return next(c for c in self.cells
                    if (c.label, c.ring_size, c.env, c.fairness) == (label, ring_size, env,
                                                                     fairness))
