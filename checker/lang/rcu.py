"""RCU as model primitives: read-side sections, grace periods, deferred frees.

A revision that uses RCU derives from :class:`RcuModel` as well as its base
(``class Fix(RcuModel, V9)``) and says how many read-side *readers* there are
(``rcu_readers``: a function of the parameters; a reader is one thread of
control, e.g. one CPU running a completion callback, and holds at most one
section at a time) and which model methods may be queued as callbacks
(``rcu_callbacks``).  Then, in any step body:

* ``self.rcu_read_lock(s, r)`` / ``self.rcu_read_unlock(s, r)``: reader ``r``
  enters / leaves its read-side section (``rcu_read_lock_bh`` alike);
* ``self.synchronize_rcu_start(s)`` in one step and
  ``s.require(self.rcu_synchronized(s))`` in a later one: ``synchronize_rcu()``,
  which returns only once every read-side section that began before it has
  ended (sections that begin after it are not waited for);
* ``self.call_rcu(s, "method", arg)`` (``kfree_rcu`` is the same with a
  method that frees ``arg``): the callback ``method(s, arg)`` runs in a step
  of its own, ``rcu_callback(slot=k)`` (actor ``rcu``, weakly fair), once every
  section that was in progress at the call has ended.

The state: ``rcu_reader[r]`` (in a section), ``rcu_sync[r]`` (the pending
``synchronize_rcu`` waits for ``r``), and per pending callback slot ``k``
``rcu_cb[k]`` (0 free, else 1 + the callback's index in ``rcu_callbacks``),
``rcu_arg[k]`` and ``rcu_cb_wait[k * R + r]``.  ``rcu_callback_slots``
callbacks may be pending at once; queuing one more makes the search
inconclusive (a model bound), never silently drops it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from checker.lang.model import Model, Params, Var, action, bool_array, bool_var, int_array
from checker.lang.view import StateView

RCU = "rcu"
"""The actor that runs RCU callbacks (softirq context after a grace period)."""

MAX_CALLBACK_SLOTS = 4
"""The most callback slots a model may ask for (``rcu_callback`` instances beyond a
model's ``rcu_callback_slots`` are never enabled)."""


class RcuModel(Model):
    """Mixin: RCU read-side sections, ``synchronize_rcu`` and ``call_rcu``/``kfree_rcu``."""

    rcu_readers: ClassVar[Any] = staticmethod(lambda p: 1)
    """A function of the parameters: how many readers (threads that may hold a
    read-side section); set it with ``staticmethod(lambda p: ...)``."""
    rcu_callbacks: ClassVar[tuple[str, ...]] = ()
    """Model methods ``(s, arg, when)`` that ``call_rcu`` may queue, by name."""
    rcu_callback_slots: ClassVar[int] = 1
    """Callbacks that may be pending at once."""
    rcu_arg_max: ClassVar[Any] = staticmethod(lambda m: 1)
    """The largest callback argument (a function of the model)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if RCU not in cls.actors:
            cls.actors = (*cls.actors, RCU)
        if not 1 <= cls.rcu_callback_slots <= MAX_CALLBACK_SLOTS:
            raise ValueError(f"{cls.__name__}.rcu_callback_slots must be 1 to "
                             f"{MAX_CALLBACK_SLOTS}, not {cls.rcu_callback_slots}")

    def n_readers(self) -> int:
        return int(type(self).rcu_readers(self.p))

    def rcu_state(self, p: Params) -> list[Var]:
        """RCU's state variables (added after the model's own, see
        :meth:`checker.lang.model.Model.extension_vars`)."""
        readers, slots = int(type(self).rcu_readers(p)), type(self).rcu_callback_slots
        return [
            bool_array("rcu_reader", readers, "RCU reader r is inside a read-side section"),
            bool_var("rcu_sync_on", "a synchronize_rcu() is in progress"),
            bool_array("rcu_sync", readers, "the synchronize_rcu() in progress waits for reader r"),
            int_array("rcu_cb", slots, 0, len(type(self).rcu_callbacks),
                      "pending call_rcu callback (0 none, else 1 + its index)"),
            int_array("rcu_arg", slots, 0, type(self).rcu_arg_max(self), "its argument"),
            bool_array("rcu_cb_wait", slots * readers,
                       "callback k waits for reader r (entry k * readers + r)"),
        ]

    rcu_state.__vhostmc_vars__ = rcu_state  # type: ignore[attr-defined]

    # -- read side --------------------------------------------------------------
    def rcu_read_lock(self, s: StateView, r: Any, when: Any = True) -> None:
        """rcu_read_lock(): reader ``r`` enters its read-side section."""
        s.rcu_reader.set_if(when, r, True)

    def rcu_read_unlock(self, s: StateView, r: Any, when: Any = True) -> None:
        """rcu_read_unlock(): reader ``r`` leaves; nothing waits for it any more."""
        s.rcu_reader.set_if(when, r, False)
        s.rcu_sync.set_if(when, r, False)
        n = self.n_readers()
        for k in range(type(self).rcu_callback_slots):
            s.rcu_cb_wait.set_if(when, k * n + r, False)

    # -- grace periods --------------------------------------------------------
    def synchronize_rcu_start(self, s: StateView, when: Any = True) -> None:
        """synchronize_rcu() begins: it will wait for the sections in progress now."""
        s.rcu_sync_on = s.any(s.rcu_sync_on, when)
        for r in range(self.n_readers()):
            s.rcu_sync[r] = s.ite(when, s.rcu_reader[r], s.rcu_sync[r])

    def rcu_synchronized(self, s: StateView) -> Any:
        """synchronize_rcu() may return: every section it waits for has ended."""
        return s.all(*(s.neg(s.rcu_sync[r]) for r in range(self.n_readers())))

    def synchronize_rcu_done(self, s: StateView, when: Any = True) -> None:
        """synchronize_rcu() returned (call in the step guarded by :meth:`rcu_synchronized`)."""
        s.rcu_sync_on = s.ite(when, False, s.rcu_sync_on)

    # -- deferred callbacks --------------------------------------------------
    def call_rcu(self, s: StateView, callback: str, arg: Any, when: Any = True) -> None:
        """call_rcu(head, callback) / kfree_rcu(ptr): queue ``callback(s, arg)`` to run
        after every read-side section in progress now has ended."""
        names = type(self).rcu_callbacks
        if callback not in names:
            raise AttributeError(f"call_rcu: '{callback}' is not in rcu_callbacks {names}")
        slots, n = type(self).rcu_callback_slots, self.n_readers()
        free = [s.rcu_cb[k] == 0 for k in range(slots)]
        s.capacity(s.implies(when, s.any(*free)), "pending RCU callbacks (rcu_callback_slots)")
        taken: Any = s.neg(when)
        for k in range(slots):
            mine = s.all(s.neg(taken), free[k])
            s.rcu_cb[k] = s.ite(mine, 1 + names.index(callback), s.rcu_cb[k])
            s.rcu_arg[k] = s.ite(mine, arg, s.rcu_arg[k])
            for r in range(n):
                s.rcu_cb_wait[k * n + r] = s.ite(mine, s.rcu_reader[r], s.rcu_cb_wait[k * n + r])
            taken = s.any(taken, mine)

    @action(RCU, "rcu_do_batch (softirq, after a grace period)",
            "the callback queued by call_rcu / kfree_rcu in slot `slot` runs: every read-side "
            "section in progress at the call has ended",
            over=lambda p: {"slot": range(MAX_CALLBACK_SLOTS)}, adds=True,
            fairness="weak")
    def rcu_callback(self, s: StateView, slot: int) -> None:
        n = self.n_readers()
        if slot >= type(self).rcu_callback_slots:
            s.require(False)
            return
        s.require(s.all(s.rcu_cb[slot] != 0,
                        *(s.neg(s.rcu_cb_wait[slot * n + r]) for r in range(n))))
        for i, name in enumerate(type(self).rcu_callbacks):
            getattr(self, name)(s, s.rcu_arg[slot], s.rcu_cb[slot] == i + 1)
        s.rcu_cb[slot] = 0
        s.rcu_arg[slot] = 0

    rcu_callback.__vhostmc_library__ = True  # type: ignore[attr-defined]
