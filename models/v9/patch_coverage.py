"""Where each line the patch adds lives in the model: a step, a helper, or a named abstraction.

``models/v9/PATCHv9.txt`` is the patch as posted (unchanged).  :data:`COVERAGE`
maps every *added* line of its diff hunks (a ``+`` line that is not the
``+++`` file header) to the model steps and helpers that model it (method
names of :class:`models.v9.V9`), or to a named abstraction of
:data:`ABSTRACTIONS` that says why the line needs no step of its own.

Line numbers are those of ``PATCHv9.txt``.  An entry covers a range of
consecutive added lines, and ``starts`` is the code of the range's first line
(without the ``+``), so an entry that no longer lines up with the patch is
noticed.  Added lines that carry no code are not counted (:func:`counts`):
blank lines, comment-only lines (a line starting with ``/*``, ``*``, ``*/``
or ``//``) and brace-only lines (only ``{``, ``}`` and ``;``).

``tests/test_patch_coverage.py`` parses the patch and fails when a counted
added line is in no entry, when an entry's range holds a line the patch does
not add, or when a step name is not a method of the v9 model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PATCH = Path(__file__).with_name("PATCHv9.txt")
"""[PATCHv9] vhost: experimental tx zero-copy support, as posted (2011-07-17)."""

ABSTRACTIONS: dict[str, str] = {
    "include": "a preprocessor #include: no behaviour.",
    "declaration": "a type, prototype, field or local variable declaration: no behaviour "
                   "of its own; the note names the state variable that holds the value.",
    "constant": "a #define the model keeps as a named constant (models/v9/constants.py) or "
                "a parameter (vhostmc list); the note names it.",
    "module-parameter": "the zcopytx module parameter is the model parameter --zcopytx (0 or 1, "
                        "fixed for a run, as a 0444 parameter is fixed after load).",
    "alloc-failure": "kmalloc failure (-ENOMEM) is not modeled: these paths return an error "
                     "before any state the TX path shares is changed (vq->ubufs and the "
                     "backend are untouched), so the run is the same as if userspace had not "
                     "made the call, which the model already has (docs/model.md, Not modeled).",
    "single-vq": "the model has one TX virtqueue, so the vhost_ubuf_ref -> vq back-pointer "
                 "is implicit: it always names that virtqueue (docs/model.md, Not modeled: other "
                 "virtqueues).",
    "unused-result": "a return value no caller in the patch uses.",
}
"""Named abstractions an added line may be covered by, each with why it is sound."""


@dataclass(frozen=True)
class Cover:
    """Added lines ``first..last`` of PATCHv9.txt and what models them."""

    first: int
    last: int
    starts: str
    """The code of line ``first`` (without the ``+``, stripped)."""
    steps: tuple[str, ...] = ()
    """Actions and helper methods of the v9 model that model these lines."""
    abstraction: str | None = None
    """A key of :data:`ABSTRACTIONS`, when the lines need no step of their own."""
    note: str = ""


COVERAGE: tuple[Cover, ...] = (
    # -- drivers/vhost/net.c --------------------------------------------------------------
    Cover(53, 53, "#include <linux/moduleparam.h>", abstraction="include"),
    Cover(61, 63, "static int zcopytx;", ("tx_lock", "set_backend"), "module-parameter",
          "parameter zcopytx, read by tx_lock and set_backend (vhost_sock_zcopy)"),
    Cover(69, 71, "/* MAX number of TX used buffers for outstanding zerocopy */",
          ("too_many_pending", "tx_zerocopy_bookkeeping"), "constant",
          "VHOST_MAX_PEND is the parameter max_pend; VHOST_GOODCOPY_LEN splits lengths into "
          "LEN_SMALL / LEN_LARGE (desc_len, w_len)"),
    Cover(80, 83, "static bool vhost_sock_zcopy(struct socket *sock)", ("tx_lock", "set_backend"),
          note="inlined: zcopytx == 1 and a SOCK_ZC backend"),
    Cover(92, 93, "struct vhost_ubuf_ref *uninitialized_var(ubufs);", abstraction="declaration",
          note="handle_tx locals ubufs and zcopy are w_ubufs and w_zcopy"),
    Cover(101, 101, "zcopy = vhost_sock_zcopy(sock);", ("tx_lock",)),
    Cover(104, 107, "/* Release DMAs done buffers first */",
          ("tx_signal_used", "zerocopy_signal_used")),
    Cover(115, 120, "/* If more outstanding DMAs, queue the work */",
          ("tx_empty_max_pend", "too_many_pending", "tx_enable_notify_more",
           "tx_enable_notify_done", "tx_poll_start"),
          note="the later steps of the empty-ring branch run only when the test is false"),
    Cover(128, 137, "/* use msg_control to pass vhost zerocopy ubuf info to skb */",
          ("tx_zerocopy_bookkeeping", "zerocopy_skb"),
          note="small buffer: heads[upend_idx].len = VHOST_DMA_DONE_LEN, no msg_control"),
    Cover(138, 149, "} else {", ("tx_zerocopy_bookkeeping", "kref_get", "zerocopy_skb",
                                 "tx_sendmsg_handoff", "dev_complete"),
          note="large buffer: ubuf_info[head] (ubuf_arg, ubuf_desc), heads[].len = "
               "LEN_IN_FLIGHT, msg_control = ubuf (the skb hand-off); ubuf->callback is the "
               "step dev_complete"),
    Cover(150, 151, "vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;",
          ("tx_zerocopy_bookkeeping",)),
    Cover(155, 160, "if (zcopy) {", ("tx_sendmsg_err", "kref_put", "tx_sendmsg_err_rollback")),
    Cover(169, 170, "if (!zcopy)", ("tx_sendmsg_ok", "tx_sendmsg_ok_weight",
                                    "add_used_and_signal")),
    Cover(178, 178, "struct vhost_ubuf_ref *ubufs, *oldubufs = NULL;",
          abstraction="declaration", note="set_backend locals; oldubufs is c_obj"),
    Cover(186, 186, "ubufs = vhost_ubuf_alloc(vq, sock && vhost_sock_zcopy(sock));",
          ("set_backend", "ubuf_alloc")),
    Cover(187, 190, "if (IS_ERR(ubufs)) {", abstraction="alloc-failure"),
    Cover(191, 192, "oldubufs = vq->ubufs;", ("set_backend",)),
    Cover(200, 202, "if (oldubufs)", ("after_swap", "put_and_wait_put")),
    Cover(210, 211, "err_ubufs:", abstraction="alloc-failure",
          note="the error exit of the failed vhost_ubuf_alloc"),
    # -- drivers/vhost/vhost.c ------------------------------------------------------------
    Cover(223, 225, "vq->upend_idx = 0;", ("init", "cleanup_finish"),
          note="vhost_vq_reset: the initial state, and vhost_dev_cleanup's reset"),
    Cover(233, 234, "dev->vqs[i].ubuf_info = kmalloc(sizeof *dev->vqs[i].ubuf_info *",
          abstraction="declaration",
          note="the array is the state variables ubuf_arg[] and ubuf_desc[]; its failure "
               "is alloc-failure"),
    Cover(242, 242, "kfree(dev->vqs[i].ubuf_info);", abstraction="alloc-failure",
          note="vhost_dev_alloc_iovecs' error path"),
    Cover(250, 269, "/* In case of DMA done not in order in lower device driver for some reason.",
          ("zerocopy_signal_used", "add_used_and_signal")),
    Cover(270, 270, "return j;", abstraction="unused-result",
          note="handle_tx and vhost_dev_cleanup ignore the count"),
    Cover(280, 282, "/* Wait for all lower device DMAs done. */",
          ("flush_done", "put_and_wait_put", "put_and_wait_cond_true", "put_and_wait_sleep",
           "put_and_wait_kfree"),
          note="release: after the flush, put-and-wait on vq->ubufs if set"),
    Cover(284, 286, "/* Signal guest as appropriate. */", ("cleanup_signal_used",)),
    Cover(294, 300, "", ("wake_up", "dev_done_signal", "put_and_wait_self_wake"),
          note="vhost_zerocopy_done_signal: the release function of kref_put"),
    Cover(301, 309, "", ("ubuf_alloc",), note="vhost_ubuf_alloc: NULL without zero copy"),
    Cover(310, 311, "if (!ubufs)", abstraction="alloc-failure"),
    Cover(312, 314, "kref_init(&ubufs->kref);", ("ubuf_alloc", "initial_refcount"),
          note="refcount 2; the wait queue is the control thread's C_SLEEP state"),
    Cover(315, 315, "ubufs->vq = vq;", abstraction="single-vq"),
    Cover(316, 318, "return ubufs;", ("ubuf_alloc",)),
    Cover(319, 323, "void vhost_ubuf_put(struct vhost_ubuf_ref *ubufs)",
          ("tx_sendmsg_err", "kref_put", "tx_sendmsg_err_rollback"),
          note="its only caller is handle_tx's sendmsg error path"),
    Cover(324, 326, "void vhost_ubuf_put_and_wait(struct vhost_ubuf_ref *ubufs)",
          ("put_and_wait_put", "kref_put", "put_and_wait_self_wake")),
    Cover(327, 327, "wait_event(ubufs->wait, !atomic_read(&ubufs->kref.refcount));",
          ("put_and_wait_cond_true", "put_and_wait_sleep", "wake_up")),
    Cover(328, 330, "kfree(ubufs);", ("put_and_wait_kfree",)),
    Cover(331, 337, "void vhost_zerocopy_callback(void *arg)", ("dev_complete",),
          note="ubuf->arg is ubuf_arg[head]"),
    Cover(338, 338, "vq = ubufs->vq;", ("dev_complete",), "single-vq"),
    Cover(339, 342, "/* set len = 1 to mark this desc buffers done DMA */",
          ("dev_complete", "kref_put")),
    # -- drivers/vhost/vhost.h ------------------------------------------------------------
    Cover(351, 355, "/* This is for zerocopy, used buffer len is set to 1 when lower device DMA",
          abstraction="constant", note="VHOST_DMA_DONE_LEN, VHOST_DMA_CLEAR_LEN"),
    Cover(363, 374, "struct vhost_virtqueue;", abstraction="declaration",
          note="struct vhost_ubuf_ref is the arrays obj[] (allocated / alive / freed), rc[] "
               "(kref) and cb_wake[]; its wait queue is control's C_SLEEP; prototypes"),
    Cover(382, 391, "/* vhost zerocopy support fields below: */", abstraction="declaration",
          note="upend_idx is upend, done_idx is done, ubuf_info is ubuf_arg[]/ubuf_desc[], "
               "ubufs is vq_ubufs"),
    Cover(399, 400, "void vhost_zerocopy_callback(void *arg);", abstraction="declaration",
          note="prototypes"),
)
"""Every added line of PATCHv9.txt, by range."""


@dataclass(frozen=True)
class AddedLine:
    """A ``+`` line of a hunk: its line number in the patch file, file and code."""

    number: int
    file: str
    code: str


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def added_lines(text: str) -> list[AddedLine]:
    """The added lines of every hunk of a unified diff.

    A hunk ends when it has consumed the old and new line counts of its
    header (context lines count for both; this patch's context lines lost
    their leading space, blank ones included).
    """
    out: list[AddedLine] = []
    current = ""
    old_left = new_left = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if old_left > 0 or new_left > 0:
            if line.startswith("+"):
                out.append(AddedLine(number, current, line[1:]))
                new_left -= 1
            elif line.startswith("-"):
                old_left -= 1
            else:
                old_left -= 1
                new_left -= 1
            continue
        if line.startswith("+++ b/"):
            current = line[len("+++ b/"):]
            continue
        match = _HUNK.match(line)
        if match:
            old_left = int(match.group(1) or 1)
            new_left = int(match.group(2) or 1)
    return out


_COMMENT = re.compile(r"^(/\*|\*|//)")


def counts(code: str) -> bool:
    """Whether an added line carries code (not blank, comment-only or brace-only)."""
    stripped = code.strip()
    if not stripped or _COMMENT.match(stripped):
        return False
    return not set(stripped) <= set("{};")


def uncovered(coverage: tuple[Cover, ...] = COVERAGE, text: str | None = None) -> list[AddedLine]:
    """Added lines with code that no entry of ``coverage`` covers."""
    lines = added_lines(PATCH.read_text() if text is None else text)
    return [a for a in lines if counts(a.code)
            and not any(c.first <= a.number <= c.last for c in coverage)]


def unknown_steps(model: type, coverage: tuple[Cover, ...] = COVERAGE) -> list[str]:
    """Step names of ``coverage`` that are not methods of ``model``."""
    return sorted({name for c in coverage for name in c.steps
                   if not callable(getattr(model, name, None))})
