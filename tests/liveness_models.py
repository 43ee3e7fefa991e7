"""Tiny models with known liveness answers (helper module for tests/test_liveness.py).

``Server``: a client requests, a server serves when not busy, a noise actor
toggles ``busy`` forever.  Property ``served``: ``req ~> !req``.  The
answers, by hand, under each fairness (WF = weak, SF = strong):

* no fairness: the run may stop right after ``request`` -> violated, a
  1-step lasso that stutters (loop 1);
* WF(server), WF(noise): busy toggles forever; ``serve`` is disabled in
  every other state, so WF(server) is met without serving -> violated,
  the cycle toggles (loop 1, 2 toggles: request, toggle, toggle);
* SF(server), WF(noise): ``serve`` is enabled infinitely often on that
  cycle, so SF forces it -> holds (the cycle exists but is unfair);
* WF(server) alone: violated; the checker reports the toggling cycle
  again (3 steps, loop 1): the cycle is built from the first fair state it
  enters, not minimised (stopping in (req, busy) after 2 steps is another
  counterexample).

``eventually_req``: ``<> req``: violated with no fairness (stutter at the
initial state, 0 steps); holds under WF(client).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.lang.fairness import Fair
from checker.lang.model import Model, Params, Var, action, bool_var
from checker.lang.spec import eventually, leads_to
from checker.lang.view import StateView


class Server(Model):
    """req/busy, see the module docstring."""

    name = "server"
    description = "a request served when the server is not busy; busy toggles"
    actors = ("client", "server", "noise")
    rules: tuple[Fair, ...] = ()

    def declare(self, p: Params) -> Sequence[Var]:
        return [bool_var("req", "a request is pending"), bool_var("busy", "server busy")]

    def fairness(self) -> list[Fair]:
        return list(self.rules)

    @action("client", "request", "req = 1;")
    def request(self, s: StateView) -> None:
        s.require(s.neg(s.req))
        s.req = True

    @action("server", "serve", "if (req && !busy) req = 0;")
    def serve(self, s: StateView) -> None:
        s.require(s.all(s.req, s.neg(s.busy)))
        s.req = False

    @action("noise", "toggle", "busy = !busy;")
    def toggle(self, s: StateView) -> None:
        s.busy = s.neg(s.busy)


@leads_to("served", "every request is eventually served")
def served(s: StateView) -> Any:
    return s.req, s.neg(s.req)


@eventually("eventually-req", "a request is eventually made")
def eventually_req(s: StateView) -> Any:
    return s.req


WF_SERVER = Fair("weak", "the server runs when it can", actors=("server",))
SF_SERVER = Fair("strong", "the server runs when it can, again and again", actors=("server",))
WF_NOISE = Fair("weak", "busy keeps toggling", actors=("noise",))
WF_CLIENT = Fair("weak", "the client requests", actors=("client",))


SERVER_CASES: list[tuple[list[Fair], dict[str, tuple[str, int | None, int | None]]]] = [
    ([], {"served": ("violated", 1, 1), "eventually-req": ("violated", 0, 0)}),
    ([WF_SERVER, WF_NOISE], {"served": ("violated", 3, 1), "eventually-req": ("violated", 2, 0)}),
    ([SF_SERVER, WF_NOISE], {"served": ("holds", None, None),
                             "eventually-req": ("violated", 2, 0)}),
    ([WF_SERVER], {"served": ("violated", 3, 1), "eventually-req": ("violated", 0, 0)}),
    ([WF_CLIENT], {"served": ("violated", 1, 1), "eventually-req": ("holds", None, None)}),
]
"""Server() under each fairness: per property (verdict, lasso length, loop start)."""

SERVER_CASE_IDS = ["none", "WF-server-noise", "SF-server-WF-noise", "WF-server", "WF-client"]
