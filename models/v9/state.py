"""Parameters, state variables and initial state of the PATCHv9 model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.lang.model import (
    Model,
    ModelError,
    Param,
    Params,
    Var,
    bool_array,
    bool_var,
    int_array,
    int_var,
)
from checker.lang.view import StateView
from models.v9.constants import (
    C_PC_NAMES,
    LEN_IN_FLIGHT,
    LEN_LARGE,
    MEM_ERRORS,
    MUTEX_CONTROL,
    OBJ_FREED,
    POLL_STARTED,
    POLL_STOPPED,
    SOCK_COPY,
    SOCK_NONE,
    SOCK_ZC,
    SOCKET_HELD,
    SOCKET_RELEASED,
    USE_ERRORS,
    W_PC_NAMES,
)

GUEST = "guest"
WORKER = "worker"
DEVICE = "device"
CONTROL = "control"

SOCK_BY_NAME = {"zerocopy": SOCK_ZC, "copy": SOCK_COPY, "none": SOCK_NONE}


def _uio_maxiov(values: dict[str, Any]) -> int:
    """next power of two >= 4 x ring size, at most 1024 (UIO_MAXIOV 1024 : ring 256)"""
    return min(1 << (4 * int(values["ring_size"]) - 1).bit_length(), 1024)


def _max_pend(values: dict[str, Any]) -> int:
    """ring size / 2 (VHOST_MAX_PEND 128 : ring 256)"""
    return int(values["ring_size"]) // 2


def _weight(values: dict[str, Any]) -> int:
    """ring size (packets per handle_tx run)"""
    return int(values["ring_size"])


def _device_capacity(values: dict[str, Any]) -> int:
    """ring size + 1"""
    return int(values["ring_size"]) + 1


SIGNAL_LOOP_CALL = "call"
SIGNAL_LOOP_ITERATION = "iteration"
SIGNAL_LOOPS = (SIGNAL_LOOP_CALL, SIGNAL_LOOP_ITERATION)


def _signal_batch(values: dict[str, Any]) -> int:
    """UIO_MAXIOV, at most 32"""
    return min(int(values["uio_maxiov"]), 32)


PARAMETERS: tuple[Param, ...] = (
    Param("ring_size", "vq->num, descriptors in the TX ring", 2, minimum=1),
    Param("uio_maxiov", "UIO_MAXIOV, entries of vq->heads[] and vq->ubuf_info[]",
          _uio_maxiov, minimum=1),
    Param("max_pend", "VHOST_MAX_PEND, outstanding zero-copy DMAs before handle_tx backs off",
          _max_pend, minimum=0),
    Param("weight", "VHOST_NET_WEIGHT scaled to packets sent per handle_tx run", _weight,
          minimum=1),
    Param("max_backend_changes", "VHOST_NET_SET_BACKEND calls userspace may make", 1, minimum=0),
    Param("send_failures", "sendmsg calls that may fail (where the failed skb goes: "
          "--lower-device)", 1, minimum=0),
    Param("device_capacity", "skbs the lower device may hold at once (a model bound)",
          _device_capacity, minimum=1),
    Param("signal_batch", "heads one vhost_zerocopy_signal_used call returns at most (a model "
          "bound: a call that would return more stops at this capacity; UIO_MAXIOV or more "
          "is no bound)", _signal_batch, minimum=1),
    Param("signal_loop", "how handle_tx's vhost_zerocopy_signal_used call is stepped: "
          "'call', one step returns every done head (docs/model.md shows it equivalent); "
          "'iteration', one step per turn of its loop, the callback and the guest "
          "interleaving between turns", SIGNAL_LOOP_CALL, kind=str,
          choices=SIGNAL_LOOPS),
    Param("zcopytx", "module parameter zcopytx (1: zero-copy on SOCK_ZEROCOPY sockets)", 1,
          minimum=0, environment=True),
    Param("initial_backend", "backend installed before the run starts", "zerocopy",
          kind=str, choices=("zerocopy", "copy", "none"), environment=True),
    Param("guest", "guest driver: 'linux' posts only heads it owns; 'rogue' may also write "
          "any head value into the avail ring", "linux", kind=str, choices=("linux", "rogue"),
          environment=True),
    Param("rogue_posts", "avail entries a rogue guest may forge", 1, minimum=0, environment=True),
    Param("lower_device", "the backend socket's driver, which decides where a failed "
          "sendmsg's skb goes: 'macvtap' (3.1 macvtap_get_user): every failure happens before "
          "the ubuf is attached, no callback runs; 'tun': a failure may also free an skb "
          "carrying the ubuf inside sendmsg, running vhost_zerocopy_callback before the error "
          "returns", "macvtap", kind=str, choices=("macvtap", "tun"), environment=True),
    Param("sndbuf", "socket sk_sndbuf in skbs; 0 is tap's default (INT_MAX: always writable); "
          "N > 0: writable below N/2 skbs held; tx_poll_start on a full socket sets "
          "SOCK_ASYNC_NOSPACE (macvtap_poll), so the completion that frees space wakes the "
          "socket work", 0, minimum=0, environment=True),
    Param("release", "userspace may close the device (vhost_net_release)", "yes", kind=str,
          choices=("yes", "no"), environment=True),
    Param("init_used_failures", "(v3.1) vhost_init_used calls in vhost_net_set_backend that "
          "may fail (-EFAULT: userspace's used ring unmapped); v9's tree has no such call", 0,
          minimum=0, environment=True),
    Param("device_progress", "liveness fairness: 'completes': the lower device eventually frees "
          "every skb it holds; 'may-hold': it may hold one forever", "completes", kind=str,
          choices=("completes", "may-hold"), environment=True),
    Param("mutex_fairness", "liveness fairness: 'strong' (assumed): a thread blocked on "
          "vq->mutex eventually takes it even if another retakes it in between; 'weak': only "
          "if the mutex stays free (the waiter may lose it forever)", "strong", kind=str,
          choices=("strong", "weak"), environment=True),
    Param("guest_progress", "liveness fairness: 'any': the guest may post or go quiet at will; "
          "'keeps-posting': it posts and reclaims whenever it can; 'goes-idle': it eventually "
          "stops posting", "any", kind=str, choices=("any", "keeps-posting", "goes-idle"),
          environment=True),
)


def _power_of_two(x: int) -> bool:
    return x >= 1 and x & (x - 1) == 0


def scaled_relations(p: Params) -> list[tuple[str, bool]]:
    """The kernel's relations between the constants the model scales, and whether
    the parameters ``p`` keep each one (docs/model.md, "Scaled constants").

    Breaking one is allowed (it is how F5 and F6 are reached quickly); the
    check command prints one warning line on stderr per broken relation."""
    n, m, pend = p.ring_size, p.uio_maxiov, p.max_pend
    return [
        (f"vq->num is a power of two (vhost_set_vring_num rejects others): ring size {n}",
         _power_of_two(n)),
        ((f"UIO_MAXIOV is a power of two (1024), so the rollback's (unsigned)-1 % UIO_MAXIOV "
         f"is UIO_MAXIOV - 1: --uio-maxiov {m}"), _power_of_two(m)),
        ((f"UIO_MAXIOV > vq->num (1024 > 256), so ubuf_info[head] is in bounds: "
         f"--uio-maxiov {m}, ring size {n}"), m > n),
        (f"VHOST_MAX_PEND < vq->num (128 < 256): --max-pend {pend}, ring size {n}", pend < n),
    ]


class V9State(Model):
    """State layout and initial state shared by every revision of the patch."""

    parameters = PARAMETERS
    actors = (GUEST, WORKER, DEVICE, CONTROL)

    @classmethod
    def validate(cls, p: Params) -> None:
        if p.zcopytx not in (0, 1):
            raise ModelError(f"--zcopytx must be 0 or 1, not {p.zcopytx}")
        if p.ring_size > 32768:
            raise ModelError(
                f"--ring-size {p.ring_size} is above the kernel's limit (vhost_set_vring_num "
                "accepts at most 32768 descriptors); use 1 to 32768"
            )
        if p.uio_maxiov > 1024:
            raise ModelError(f"--uio-maxiov {p.uio_maxiov} is above the kernel's UIO_MAXIOV "
                             "(1024); use 1 to 1024")

    def relations(self) -> list[tuple[str, bool]]:
        """The kernel's relations between scaled constants, each with whether these
        parameters keep it (:func:`scaled_relations`)."""
        return scaled_relations(self.p)

    # -- sizes derived from the parameters -------------------------------
    @property
    def n_objects(self) -> int:
        """vhost_ubuf_ref objects that can ever exist: the initial one and one per change."""
        return 1 + self.p.max_backend_changes

    @property
    def n_ubuf_info(self) -> int:
        """ubuf_info[] entries a head can index without going out of bounds."""
        return min(self.p.ring_size, self.p.uio_maxiov)

    @property
    def n_sockets(self) -> int:
        """Socket objects that can ever exist: the initial backend and one per change."""
        return 1 + self.p.max_backend_changes

    @property
    def rogue_budget(self) -> int:
        return self.p.rogue_posts if self.p.guest == "rogue" else 0

    def declare(self, p: Params) -> Sequence[Var]:
        n, m, k = p.ring_size, p.uio_maxiov, self.n_objects
        socks = self.n_sockets
        cap = p.device_capacity
        return [
            # guest and rings
            bool_array("g_owned", n, "descriptor is the guest's to post"),
            int_array("desc_len", n, 0, LEN_LARGE, "length class the guest wrote: 0 small, 1 large"),
            int_array("avail", n, 0, n, "avail ring entries (n stands for any head >= vq->num)"),
            int_var("last_avail", 0, n - 1, "vq->last_avail_idx mod num"),
            int_var("avail_cnt", 0, n + 1,
                    "avail->idx - vq->last_avail_idx (n + 1 only after a rogue guest refilled "
                    "the slot of a head vhost then discarded)"),
            int_array("used", n, 0, n - 1, "used ring entries the guest has not reclaimed, oldest first"),
            int_var("used_cnt", 0, n, "entries in the used ring not yet reclaimed"),
            bool_var("no_notify", "VRING_USED_F_NO_NOTIFY"),
            bool_var("g_kick", "guest posted and has not yet decided whether to kick"),
            int_var("rogue_left", 0, self.rogue_budget, "forged avail entries left"),
            # work queue and polling
            bool_var("kick_q", "vq->poll work queued"),
            bool_var("sock_q", "net->poll[TX] work queued"),
            bool_var("kick_poll", "kick eventfd polled"),
            int_var("tx_poll", 0, POLL_STARTED, "net->tx_poll_state"),
            int_var("poll_sock", 0, socks, "socket whose wait queue net->poll[TX] was "
                    "registered on by the last tx_poll_start (0 none)"),
            bool_array("nospace", socks + 1, "SOCK_ASYNC_NOSPACE of each socket"),
            int_var("vq_mutex", 0, MUTEX_CONTROL, "vq->mutex holder"),
            # handle_tx locals
            int_var("w_pc", 0, len(W_PC_NAMES) - 1, "handle_tx program counter"),
            int_var("w_item", 0, 2, "work item being run"),
            int_var("w_sock", 0, SOCK_COPY, "sock read from vq->private_data: its kind"),
            int_var("w_sock_id", 0, socks, "sock read from vq->private_data: which socket"),
            bool_var("w_wfull", "wmem >= sk_sndbuf at entry"),
            bool_var("w_wlow", "wmem < sk_sndbuf / 2 at entry"),
            bool_var("w_zcopy", "zcopy"),
            int_var("w_head", 0, n - 1, "head"),
            int_var("w_len", 0, LEN_LARGE, "len class of head"),
            int_var("w_ubufs", 0, k, "ubufs (0 is NULL)"),
            bool_var("w_wake", "kref_put in the sendmsg error path hit zero"),
            bool_var("w_cb_wake", "(tun) the callback run inside sendmsg hit zero: its "
                     "wake_up is still to come"),
            int_var("w_sent", 0, p.weight, "packets sent this run (total_len)"),
            int_var("fail_left", 0, p.send_failures, "sendmsg failures left"),
            # virtqueue
            int_var("backend", 0, SOCK_COPY, "vq->private_data: the socket's kind"),
            int_var("backend_sock", 0, socks, "vq->private_data: which socket (0 NULL)"),
            int_array("sock_state", socks + 1, 0, SOCKET_RELEASED,
                      "socket object: 0 not opened, 1 held by vhost, 2 released (fput)"),
            int_var("vq_ubufs", 0, k, "vq->ubufs (0 is NULL)"),
            int_var("upend", 0, m - 1, "vq->upend_idx"),
            int_var("done", 0, m - 1, "vq->done_idx"),
            int_array("heads_id", m, 0, n - 1, "vq->heads[].id"),
            int_array("heads_len", m, 0, LEN_IN_FLIGHT, "vq->heads[].len: 0 clear, 1 done, 2 in flight"),
            int_array("ubuf_arg", self.n_ubuf_info, 0, k, "vq->ubuf_info[].arg"),
            int_array("ubuf_desc", self.n_ubuf_info, 0, m - 1, "vq->ubuf_info[].desc"),
            # vhost_ubuf_ref objects, index 0 is NULL
            int_array("obj", k + 1, 0, OBJ_FREED, "object state: 0 unallocated, 1 alive, 2 freed"),
            int_array("rc", k + 1, -1, 3 + cap, "kref refcount"),
            int_array("cb_wake", k + 1, 0, 2, "completions that hit zero and owe a wake_up"),
            # lower device: skbs in arrival order
            int_var("skb_cnt", 0, cap, "skbs held by the lower device"),
            int_array("skb_head", cap, 0, n - 1, "ubuf_info[] entry the skb's ubuf points at"),
            int_array("skb_slot", cap, 0, m - 1, "heads[] slot it was sent for", ghost=True),
            int_array("skb_sock", cap, 0, socks, "socket it was sent on (its sk_wmem_alloc)"),
            # userspace control
            int_var("c_pc", 0, len(C_PC_NAMES) - 1, "control program counter"),
            int_var("c_op", 0, 2, "0 none, 1 set_backend, 2 release"),
            int_var("c_obj", 0, k, "vhost_ubuf_ref being put-and-waited"),
            bool_var("c_oldsock", "set_backend replaced a socket (flush after)"),
            int_var("c_fput", 0, socks, "socket this call fputs when it ends (0 none)"),
            int_var("flush_kick", 0, 2, "runs of the kick item the flush waits for"),
            int_var("flush_sock", 0, 2, "runs of the socket item the flush waits for"),
            int_var("changes_left", 0, p.max_backend_changes, "backend changes left"),
            bool_var("dev_freed", "struct vhost_net freed"),
            # monitors
            int_array("inflight", n, 0, 2 + self.rogue_budget, "times head fetched and not returned",
                      ghost=True),
            int_var("use_err", 0, max(USE_ERRORS), "first no-double-use error", ghost=True),
            int_var("mem_err", 0, max(MEM_ERRORS), "first memory-safety error", ghost=True),
        ]

    def init(self, s: StateView) -> None:
        """Device opened, rings set up, kick fd set, then VHOST_NET_SET_BACKEND done."""
        p = self.p
        s.g_owned = [True] * p.ring_size
        s.kick_poll = True
        s.fail_left = p.send_failures
        s.changes_left = p.max_backend_changes
        s.rogue_left = self.rogue_budget
        first = SOCK_BY_NAME[p.initial_backend]
        if first != SOCK_NONE:
            ubufs = self.ubuf_alloc(s, first == SOCK_ZC and p.zcopytx == 1)
            s.vq_ubufs = ubufs
            s.backend = first
            s.backend_sock = 1
            s.sock_state[1] = SOCKET_HELD
            s.tx_poll = POLL_STOPPED
            self.tx_poll_start(s, 1)

    # Provided by the kernel-helpers mixin; declared here for type checkers.
    def ubuf_alloc(self, s: StateView, zcopy: Any) -> Any:
        raise NotImplementedError

    def tx_poll_start(self, s: StateView, sock: Any, when: Any = True) -> None:
        raise NotImplementedError
