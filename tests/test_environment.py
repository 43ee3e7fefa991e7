"""The environment around the patch: lower devices, finite sndbuf, socket lifetime,
C arithmetic and the scaled constants' relations, v3.1's vhost_init_used error path,
and mutex fairness (docs/model.md, results/FINDINGS.md "Environment")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checker.cli import main
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import State
from checker.runs.catalog import load_revision, select_properties
from checker.semantics.states import as_dict, fire, from_dict, initial_state
from models.v3_1 import V3_1
from models.v9 import V9
from models.v9.constants import (
    ITEM_SOCK,
    LEN_LARGE,
    MEM_KREF_GET_ZERO,
    MEM_UAF_SOCK,
    MEM_UAF_VQ,
    MUTEX_WORKER,
    POLL_STARTED,
    POLL_STOPPED,
    SOCK_ZC,
    SOCKET_HELD,
    SOCKET_RELEASED,
    W_ERR_ROLLBACK,
    W_LOCK,
)
from models.v9.state import scaled_relations

SENDFAIL = {"max_backend_changes": 0, "release": "no"}


def make(model: V9, base: State | None = None, **edits: Any) -> State:
    d = as_dict(model, initial_state(model) if base is None else base)
    for name, value in edits.items():
        if isinstance(value, dict):
            for i, x in value.items():
                d[name][i] = x
        else:
            d[name] = value
    return from_dict(model, d)


def run(model: V9, labels: list[str], state: State | None = None) -> State:
    cur = initial_state(model) if state is None else state
    for label in labels:
        nxt = fire(model, model.instance(label), cur)
        assert nxt is not None, f"{label} is disabled"
        cur = nxt
    return cur


def verdicts(revision: str, params: dict[str, Any], props: list[str]) -> dict[str, Any]:
    model = load_revision(revision)(params)
    res = ExplicitChecker(model, select_properties(props)).run()
    return {r.name: (r.status, len(r.trace) if r.trace else None, res.complete)
            for r in res.properties}


# -- 4. C arithmetic and the relations between scaled constants -------------------------


@pytest.mark.parametrize(("ring", "maxiov"), [(1, 4), (2, 8), (3, 16), (5, 32)])
def test_uio_maxiov_default_is_the_next_power_of_two_of_4n(ring: int, maxiov: int) -> None:
    p = V9({"ring_size": ring}).p
    assert p.uio_maxiov == maxiov
    assert p.max_pend < ring


@pytest.mark.parametrize(("maxiov", "rolled"), [(8, 7), (12, 3), (5, 0), (1, 0)])
def test_rollback_at_zero_computes_the_unsigned_wrap(maxiov: int, rolled: int) -> None:
    """((unsigned)0 - 1) % M is 4294967295 % M: M - 1 only for a power of two."""
    m = V9({"uio_maxiov": maxiov, "ring_size": 2})
    s = make(m, w_pc=W_ERR_ROLLBACK, w_item=ITEM_SOCK, w_sock=SOCK_ZC, w_sock_id=1,
             w_zcopy=True, w_head=0, w_len=LEN_LARGE, vq_mutex=MUTEX_WORKER, upend=0,
             g_owned={0: False}, inflight={0: 1})
    assert as_dict(m, run(m, ["tx_sendmsg_err_rollback"], s))["upend"] == rolled == (
        (2**32 - 1) % maxiov)


def test_relations_kept_by_default_and_named_when_broken() -> None:
    assert V9({"ring_size": 2}).broken_relations() == []
    assert V9({"ring_size": 4}).broken_relations() == []
    broken = V9({"ring_size": 2, "uio_maxiov": 1, "max_pend": 2}).broken_relations()
    assert [b.split(":")[1].strip() for b in broken] == [
        "UIO_MAXIOV > vq->num (1024 > 256), so ubuf_info[head] is in bounds",
        "VHOST_MAX_PEND < vq->num (128 < 256)"]
    assert any("ring size 3" in b for b in V9({"ring_size": 3}).broken_relations())
    assert any("power of two" in b and "--uio-maxiov 12" in b
               for b in V9({"uio_maxiov": 12}).broken_relations())
    assert [kept for _, kept in scaled_relations(V9({"ring_size": 2}).p)] == [True] * 4


def test_check_warns_on_stderr_and_still_runs(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--ring-size", "1", "--uio-maxiov", "3", "--max-backend-changes", "0",
              "--release", "no", "--send-failures", "0", "--property", "memory-safe",
              "--out", str(tmp_path / "out"), "-q"])
    _, err = capsys.readouterr()
    assert exc.value.code == 0  # memory-safe holds: the warning changes no exit code
    assert ("vhostmc: warning: relation broken: UIO_MAXIOV is a power of two (1024), so the "
            "rollback's (unsigned)-1 % UIO_MAXIOV is UIO_MAXIOV - 1: --uio-maxiov 3") in err


def test_list_shows_the_relations(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["list", "--ring-size", "3"])
    out, _ = capsys.readouterr()
    assert "Relations between scaled constants (at --ring-size 3" in out
    assert "BROKEN vq->num is a power of two" in out
    assert "kept   VHOST_MAX_PEND < vq->num" in out


# -- 1. where a failed sendmsg's skb goes ---------------------------------------------------


def test_macvtap_early_failure_rollback_is_correct_on_v31() -> None:
    """v3.1 at ring 1 with one failing sendmsg, macvtap: complete search, everything holds
    (the failed send never handed an skb over, and the rollback undoes exactly the
    bookkeeping)."""
    got = verdicts("v3.1", {"ring_size": 1, **SENDFAIL},
                   ["no-double-use", "memory-safe", "no-stuck-waiter", "no-leak"])
    assert got == {name: ("holds", None, True) for name in got}


def test_tun_failure_double_puts_on_v31() -> None:
    """tun: the callback run inside the failing sendmsg and the error path both put the
    one reference the bookkeeping took, which takes v3.1's refcount to 0 while vq->ubufs
    still points at the object: the next send's kref_get is at refcount 0. Complete search
    (the cb_wake bound is no longer reached)."""
    model = V3_1({"ring_size": 1, "lower_device": "tun", **SENDFAIL})
    res = ExplicitChecker(model, select_properties(["memory-safe", "no-double-use"])).run()
    assert res.complete
    by_name = {r.name: r for r in res.properties}
    assert by_name["no-double-use"].status == "holds"
    r = by_name["memory-safe"]
    assert r.status == "violated" and r.trace is not None and len(r.trace) == 16
    assert "kref_get on a vhost_ubuf_ref whose refcount already reached 0" in r.trace.explanation
    labels = [step.label for step in r.trace.steps]
    assert labels.index("tx_sendmsg_fail_skb_freed") < labels.index("tx_sendmsg_err")
    assert as_dict(model, r.trace.steps[-1].state)["mem_err"] == MEM_KREF_GET_ZERO


# -- 2. a finite sndbuf: SOCK_ASYNC_NOSPACE left set by tx_poll_start -------------------------


def test_poll_start_on_a_full_socket_sets_nospace_and_the_free_wakes() -> None:
    m = V9({"sndbuf": 2})
    s = make(m, w_pc=W_LOCK, w_item=ITEM_SOCK, w_sock=SOCK_ZC, w_sock_id=1, w_wfull=True,
             tx_poll=POLL_STOPPED, sock_q=False, skb_cnt=1, skb_sock=[1, 0, 0],
             ubuf_arg=[1, 0], rc={1: 3})
    d = as_dict(m, run(m, ["tx_sndbuf_full"], s))
    assert (d["tx_poll"], d["poll_sock"], d["sock_q"], d["nospace"][1]) == (
        POLL_STARTED, 1, False, True)
    d = as_dict(m, run(m, ["tx_sndbuf_full", "dev_complete(k=0)"], s))
    assert (d["sock_q"], d["nospace"][1]) == (True, False)  # sk_write_space woke the poll


OLD_SNDBUF_LASSO = [
    "guest_post(h=0, large=1)", "worker_run_sock", "tx_read_sock", "tx_read_wmem", "tx_lock",
    "tx_signal_used", "tx_get_desc_head", "tx_zerocopy_bookkeeping", "tx_sendmsg_handoff",
    "tx_sendmsg_ok", "tx_signal_used", "guest_no_kick", "guest_post(h=1, large=1)",
    "tx_get_desc_head", "tx_zerocopy_bookkeeping", "tx_sendmsg_handoff", "tx_sendmsg_ok_weight",
    "worker_run_kick", "tx_read_sock", "tx_read_wmem", "dev_complete(k=0)", "tx_sndbuf_full",
    "dev_complete(k=0)", "guest_no_kick"]


def test_the_old_24_step_sndbuf_deadlock_now_wakes_the_worker() -> None:
    """v3.1, ring 2, --sndbuf 2, --guest-progress keeps-posting: before NOSPACE was left set
    by tx_poll_start this 24-step run ended in a state nothing could leave (a no-leak
    lasso); now the last free wakes the socket work."""
    m = V3_1({"ring_size": 2, "sndbuf": 2, "max_backend_changes": 0, "release": "no",
              "send_failures": 0, "guest_progress": "keeps-posting"})
    d = as_dict(m, run(m, OLD_SNDBUF_LASSO))
    assert (d["sock_q"], d["tx_poll"], d["heads_len"][:2]) == (True, POLL_STARTED, [1, 1])
    d = as_dict(m, run(m, OLD_SNDBUF_LASSO + ["worker_run_sock", "tx_read_sock",
                                              "tx_read_wmem", "tx_lock", "tx_signal_used"]))
    assert d["used_cnt"] == 2  # both heads are returned


# -- 3. socket identity and lifetime -----------------------------------------------------------


def test_backend_change_opens_a_new_socket_and_fputs_the_old_after_the_flush() -> None:
    m = V3_1({"ring_size": 1, "send_failures": 0, "release": "no"})
    s = run(m, ["set_backend(to=1)"])
    d = as_dict(m, s)
    assert (d["backend_sock"], d["sock_state"], d["c_fput"], d["poll_sock"]) == (
        2, [0, SOCKET_HELD, SOCKET_HELD], 1, 2)
    s = run(m, ["put_and_wait_put", "put_and_wait_self_wake", "put_and_wait_cond_true",
                "put_and_wait_kfree", "set_backend_signal_used", "worker_run_sock",
                "tx_read_sock", "tx_lock", "tx_signal_used", "tx_get_desc_empty",
                "tx_enable_notify_done"], s)
    assert as_dict(m, s)["sock_state"][1] == SOCKET_HELD  # flush not returned yet
    d = as_dict(m, run(m, ["flush_done"], s))
    assert (d["sock_state"], d["c_fput"]) == ([0, SOCKET_RELEASED, SOCKET_HELD], 0)


def test_release_fputs_the_last_socket_at_the_end() -> None:
    m = V9({"ring_size": 1, "send_failures": 0, "max_backend_changes": 0})
    s = run(m, ["release_stop"])
    assert (as_dict(m, s)["c_fput"], as_dict(m, s)["backend_sock"]) == (1, 0)
    s = run(m, ["worker_run_sock", "tx_no_sock", "flush_done", "cleanup_poll_stop",
                "flush_done", "put_and_wait_put", "put_and_wait_sleep"], s)
    assert as_dict(m, s)["sock_state"][1] == SOCKET_HELD  # v9 hangs in put-and-wait (F1)


def test_a_poll_left_on_a_released_socket_is_a_use_after_free() -> None:
    """A stale handle_tx run registered the TX poll on the old socket; after vhost's fput
    of it, tx_poll_stop's remove_wait_queue touches freed memory."""
    m = V9({"ring_size": 1})
    s = make(m, w_pc=W_LOCK, w_item=ITEM_SOCK, w_sock=SOCK_ZC, w_sock_id=2, w_wlow=True,
             backend_sock=2, tx_poll=POLL_STARTED, poll_sock=1,
             sock_state=[0, SOCKET_RELEASED, SOCKET_HELD])
    assert as_dict(m, run(m, ["tx_lock"], s))["mem_err"] == MEM_UAF_SOCK
    # the same step on the socket the poll is really on is fine
    fine = make(m, s, poll_sock=2)
    assert as_dict(m, run(m, ["tx_lock"], fine))["mem_err"] == 0


def test_a_stale_run_sending_on_a_released_socket_is_a_use_after_free() -> None:
    m = V9({"ring_size": 1})
    s = make(m, w_pc=W_LOCK, w_item=ITEM_SOCK, w_sock=SOCK_ZC, w_sock_id=1, w_wlow=True,
             backend_sock=2, tx_poll=POLL_STOPPED, sock_state=[0, SOCKET_RELEASED, SOCKET_HELD])
    assert as_dict(m, run(m, ["tx_lock"], s))["mem_err"] == MEM_UAF_SOCK  # vhost_sock_zcopy


# -- 5. v3.1: vhost_init_used fails in vhost_net_set_backend ---------------------------------


def test_v31_init_used_error_leaves_old_skbs_unwaited_and_release_frees_the_vq() -> None:
    m = V3_1({"ring_size": 1, "send_failures": 0, "init_used_failures": 1})
    labels = [
        "worker_run_sock", "tx_read_sock", "tx_lock", "tx_signal_used",
        "guest_post(h=0, large=1)", "guest_no_kick", "tx_get_desc_head",
        "tx_zerocopy_bookkeeping", "tx_sendmsg_handoff", "tx_sendmsg_ok_weight",
        "set_backend_init_used_fails(to=1)"]
    s = run(m, labels)
    d = as_dict(m, s)
    # the error path returned: new socket and ubufs installed, the old ones left alone
    assert (d["c_pc"], d["backend_sock"], d["vq_ubufs"], d["c_fput"]) == (0, 2, 2, 0)
    assert (d["obj"][1], d["rc"][1], d["skb_cnt"], d["sock_state"][1]) == (1, 2, 1, SOCKET_HELD)
    s = run(m, ["release_stop", "worker_run_kick", "tx_no_sock", "worker_run_sock",
                "tx_no_sock", "flush_done",
                "cleanup_poll_stop", "flush_done", "put_and_wait_put", "put_and_wait_self_wake",
                "put_and_wait_cond_true", "put_and_wait_kfree", "cleanup_signal_used",
                "cleanup_finish"], s)
    assert as_dict(m, s)["dev_freed"] is True
    d = as_dict(m, run(m, ["dev_complete(k=0)"], s))
    assert d["mem_err"] == MEM_UAF_VQ  # the old skb's callback writes the freed vq


def test_init_used_failures_default_to_none_and_are_v31_only() -> None:
    assert as_dict(V3_1(), initial_state(V3_1()))["init_used_left"] == 0
    assert "set_backend_init_used_fails" not in {i.name for i in V9().instances}


# -- 6. mutex fairness --------------------------------------------------------------------------


def test_mutex_fairness_is_strong_by_default() -> None:
    strong = [f for f in V3_1().fairness() if "mutex" in f.why]
    assert [(f.kind, f.each) for f in strong] == [("strong", True)]
    assert "set_backend_signal_used" in strong[0].actions
    assert not [f for f in V3_1({"mutex_fairness": "weak"}).fairness() if "mutex" in f.why]
