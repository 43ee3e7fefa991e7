"""Every line PATCHv9 adds is modeled by a step of models/v9 or a documented abstraction."""

from __future__ import annotations

import pytest

from models.v9 import V9
from models.v9.patch_coverage import (
    ABSTRACTIONS,
    COVERAGE,
    PATCH,
    Cover,
    added_lines,
    counts,
    uncovered,
    unknown_steps,
)

ADDED = added_lines(PATCH.read_text())
BY_NUMBER = {a.number: a for a in ADDED}


def test_the_parser_finds_the_patch_s_186_insertions() -> None:
    # "3 files changed, 186 insertions(+), 1 deletions(-)"
    assert len(ADDED) == 186
    assert {a.file for a in ADDED} == {"drivers/vhost/net.c", "drivers/vhost/vhost.c",
                                       "drivers/vhost/vhost.h"}
    per_file = {f: sum(1 for a in ADDED if a.file == f) for f in ("drivers/vhost/net.c",
                                                                 "drivers/vhost/vhost.c",
                                                                 "drivers/vhost/vhost.h")}
    assert per_file == {"drivers/vhost/net.c": 72, "drivers/vhost/vhost.c": 85,
                        "drivers/vhost/vhost.h": 29}


def test_the_counting_rule() -> None:
    assert not counts("")
    assert not counts("   ")
    assert not counts(" /* Release DMAs done buffers first */")
    assert not counts(" * done */")
    assert not counts("}")
    assert not counts("};")
    assert counts("} else")
    assert counts("break;")


def _covering(number: int) -> list[Cover]:
    return [c for c in COVERAGE if c.first <= number <= c.last]


def test_every_added_line_with_code_is_covered_once() -> None:
    missing = [f"{a.number}: {a.code.strip()}" for a in uncovered()]
    assert not missing, "added lines neither mapped to a step nor to an abstraction:\n" + \
        "\n".join(missing)
    twice = [a.number for a in ADDED if len(_covering(a.number)) > 1]
    assert not twice


@pytest.mark.parametrize("cover", COVERAGE, ids=lambda c: f"{c.first}-{c.last}")
def test_an_entry_lines_up_with_the_patch(cover: Cover) -> None:
    inside = [n for n in range(cover.first, cover.last + 1)]
    not_added = [n for n in inside if n not in BY_NUMBER]
    assert not not_added, f"lines {not_added} are not added lines of the patch"
    assert BY_NUMBER[cover.first].code.strip() == cover.starts
    assert any(counts(BY_NUMBER[n].code) for n in inside), "covers no line with code"


@pytest.mark.parametrize("cover", COVERAGE, ids=lambda c: f"{c.first}-{c.last}")
def test_an_entry_names_existing_steps_or_a_documented_abstraction(cover: Cover) -> None:
    assert cover.steps or cover.abstraction
    if cover.abstraction is not None:
        assert cover.abstraction in ABSTRACTIONS
    missing = unknown_steps(V9, (cover,))
    assert not missing, f"not a step or helper of the v9 model: {missing}"


def test_every_action_of_the_patch_appears_somewhere() -> None:
    named = {name for c in COVERAGE for name in c.steps}
    patch_steps = {"tx_signal_used", "tx_empty_max_pend", "tx_zerocopy_bookkeeping",
                   "tx_sendmsg_handoff", "tx_sendmsg_err", "tx_sendmsg_err_rollback",
                   "put_and_wait_put", "put_and_wait_self_wake", "put_and_wait_cond_true",
                   "put_and_wait_sleep", "put_and_wait_kfree", "cleanup_signal_used",
                   "dev_complete", "dev_done_signal"}
    assert patch_steps <= named
    assert patch_steps <= set(V9.action_marks())


def test_a_missing_line_or_a_renamed_step_is_reported() -> None:
    short = tuple(c for c in COVERAGE if c.first != 101)
    assert [(a.number, a.code.strip()) for a in uncovered(short)] == [
        (101, "zcopy = vhost_sock_zcopy(sock);")]
    renamed = (Cover(101, 101, "zcopy = vhost_sock_zcopy(sock);", ("tx_lock_renamed",)),)
    assert unknown_steps(V9, renamed) == ["tx_lock_renamed"]
    assert unknown_steps(V9) == []
