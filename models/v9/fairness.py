"""The fairness a reviewer assumes of the environment (docs/model.md, "Fairness").

By default: the lower device eventually frees every skb it holds; the
vhost worker thread, when it can run, eventually runs, and every work item
queued again and again is eventually run (the work list is FIFO); a
userspace call already inside the kernel eventually takes its next step;
the wake_up that ends a kref_put's release function is eventually made; a
guest that posted eventually decides whether to kick.  Nothing forces
userspace to start a call or the guest to post: either may go quiet.

A thread blocked on ``vq->mutex`` eventually takes it (strong fairness on
each lock-taking step): the kernel mutex is not FIFO-fair, but a waiter that
spins or sleeps on it does get it in practice; this is an assumption, and
``--mutex-fairness weak`` drops it (a waiter may then lose the mutex to the
worker forever).

The switches ``--device-progress may-hold`` (the device may hold an skb
forever) and ``--guest-progress keeps-posting | goes-idle`` change that.
"""

from __future__ import annotations

from checker.lang.fairness import Fair
from models.v9.state import CONTROL, GUEST, WORKER, V9State

CALL_STARTS = ("set_backend", "set_backend_init_used_fails", "release_stop")
"""Control steps that start a userspace call: never forced (those a revision has:
``set_backend_init_used_fails`` is v3.1's)."""

MUTEX_TAKERS = ("tx_lock", "tx_sndbuf_full", "set_backend_signal_used")
"""Steps that take vq->mutex inside a call already running (``mutex_lock(&vq->mutex)``):
the worker's, and v3.1's re-lock after put-and-wait. (``set_backend`` and
``release_stop`` also take it, but they start a call, which is never forced.)"""


class FairnessAssumptions(V9State):
    """``fairness()`` for the v9 model and its revisions."""

    def fairness(self) -> list[Fair]:
        p = self.p
        steps = {spec.name for spec in self.action_specs}
        call_starts = tuple(n for n in CALL_STARTS if n in steps)
        mutex_takers = tuple(n for n in MUTEX_TAKERS if n in steps)
        rules = [
            Fair("weak", "the vhost worker thread is eventually scheduled", actors=(WORKER,)),
            Fair("strong", "vhost_work_queue appends to a FIFO list: queued work eventually runs",
                 actions=("worker_run_kick", "worker_run_sock"), each=True),
            Fair("weak", "a userspace call inside the kernel eventually takes its next step",
                 actors=(CONTROL,), except_actions=call_starts),
            Fair("weak", "the release function of a kref_put that hit zero runs to its wake_up",
                 actions=("dev_done_signal",), each=True),
            *([Fair("strong", "--mutex-fairness strong (assumed): a thread blocked in "
                    "mutex_lock(&vq->mutex) gets it eventually, even if another thread takes "
                    "it again and again in between", actions=mutex_takers, each=True)]
              if p.mutex_fairness == "strong" else []),
            Fair("weak", "a guest that posted finishes virtqueue_kick",
                 actions=("guest_kick", "guest_no_kick")),
        ]
        if p.device_progress == "completes":
            rules.append(Fair("weak", "the lower device eventually frees every skb it holds",
                              actions=("dev_complete",), each=True))
        guest = p.guest_progress
        if guest == "keeps-posting":
            rules += [
                Fair("weak", "--guest-progress keeps-posting: the guest posts whenever it "
                     "owns a descriptor", actors=(GUEST,), actions=("guest_post",)),
                Fair("weak", "--guest-progress keeps-posting: the guest reclaims used entries",
                     actions=("guest_reclaim",)),
            ]
        elif guest == "goes-idle":
            rules.append(Fair("finitely", "--guest-progress goes-idle: the guest eventually "
                              "stops posting", actions=("guest_post", "guest_post_rogue")))
        return rules



