"""Deliberately wrong: a revision whose override misspells the step it means.

docs/extending.md ("When a file is wrong") runs it to show the error:
``put_and_wait_kfre`` is not a step of v9, and a step that is new in a
revision must say ``@action(..., adds=True)``.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import C_FREE, OBJ_FREED
from models.v9.state import CONTROL


class Typo(V9):
    """v9 with a misspelt override of put_and_wait_kfree."""

    name = "typo"

    @action(CONTROL, "vhost_ubuf_put_and_wait", "kfree(ubufs);")
    def put_and_wait_kfre(self, s: StateView) -> None:
        s.require(s.c_pc == C_FREE)
        s.obj[s.c_obj] = OBJ_FREED
