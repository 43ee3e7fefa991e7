"""The model API: parameters, variables, actions and instances, state views, backends."""

from __future__ import annotations

import pytest
import reference_models
from reference_models import Cells, Counter, Lock

from checker.lang.expr import CONCRETE, ConcreteBackend
from checker.lang.model import (
    Model,
    ModelError,
    Param,
    Var,
    action,
    bool_array,
    bool_var,
    int_array,
    int_var,
)
from checker.lang.spec import invariant, properties_in
from checker.lang.view import CapacityReached, Disabled, ModelBug, StateView
from checker.semantics.states import (
    as_dict,
    changed,
    default_value,
    fire,
    from_dict,
    initial_state,
    property_view,
)
from models.v9 import V9

# -- parameters ----------------------------------------------------------------------


def test_v9_defaults_derive_from_the_ring_size() -> None:
    p = V9().p
    assert p.ring_size == 2
    assert p.uio_maxiov == 8  # the next power of two >= 4 * ring_size
    assert p.max_pend == 1  # ring_size // 2
    assert p.weight == 2  # ring_size
    assert p.device_capacity == 3  # ring_size + 1
    assert (p.max_backend_changes, p.send_failures, p.zcopytx) == (1, 1, 1)
    assert (p.initial_backend, p.guest, p.release) == ("zerocopy", "linux", "yes")


@pytest.mark.parametrize("ring, maxiov, pend", [(1, 4, 0), (3, 16, 1), (8, 32, 4), (64, 256, 32)])
def test_v9_derived_defaults(ring: int, maxiov: int, pend: int) -> None:
    p = V9({"ring_size": ring}).p
    assert (p.uio_maxiov, p.max_pend, p.weight, p.device_capacity) == (maxiov, pend, ring,
                                                                       ring + 1)


def test_explicit_values_override_derived_ones() -> None:
    p = V9({"ring_size": 8, "uio_maxiov": 3}).p
    assert p.uio_maxiov == 3
    assert p.max_pend == 4  # still derived from ring_size, not from uio_maxiov
    # None is "not given": the default applies
    assert V9({"ring_size": 3, "uio_maxiov": None}).p.uio_maxiov == 16


def test_derived_defaults_in_reference_models() -> None:
    assert Counter().p.as_dict() == {"modulus": 4, "bad": 3}
    assert Counter({"modulus": 9}).p.bad == 8
    assert Counter({"modulus": 9, "bad": 2}).p.as_dict() == {"modulus": 9, "bad": 2}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"foo": 1}, "unknown parameter 'foo' for revision v9"),
        ({"ring_size": "2"}, "--ring-size must be an integer, not '2'"),
        ({"ring_size": 2.0}, "--ring-size must be an integer, not '2.0'"),
        ({"ring_size": True}, "--ring-size must be an integer, not 'True'"),
        ({"ring_size": 0}, "--ring-size must be at least 1, not 0"),
        ({"max_pend": -1}, "--max-pend must be at least 0, not -1"),
        ({"guest": "evil"}, "--guest must be one of linux, rogue, not 'evil'"),
        ({"initial_backend": "tap"},
         "--initial-backend must be one of zerocopy, copy, none, not 'tap'"),
        ({"release": True}, "--release must be one of yes, no, not 'True'"),
        # V9State.validate
        ({"zcopytx": 2}, "--zcopytx must be 0 or 1, not 2"),
        ({"ring_size": 32769}, ("--ring-size 32769 is above the kernel's limit "
         "(vhost_set_vring_num accepts at most 32768 descriptors); use 1 to 32768")),
        ({"uio_maxiov": 1025}, ("--uio-maxiov 1025 is above the kernel's UIO_MAXIOV (1024); "
         "use 1 to 1024")),
    ],
)
def test_v9_parameter_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ModelError) as err:
        V9(overrides)
    assert str(err.value) == message


def test_derived_default_is_checked_against_the_minimum() -> None:
    class Halves(Model):
        name = "halves"
        parameters = (
            Param("n", "items", 2, minimum=1),
            Param("half", "half the items", lambda v: v["n"] // 2, minimum=1),
        )

        def declare(self, p):
            return [int_var("x", 0, p.half)]

    assert Halves().p.half == 1
    with pytest.raises(ModelError, match=r"^--half must be at least 1, not 0$"):
        Halves({"n": 1})


def test_param_option_and_default_text() -> None:
    by_name = {p.name: p for p in V9.parameters}
    assert by_name["max_backend_changes"].option == "--max-backend-changes"
    assert by_name["ring_size"].default_text() == "2"
    assert by_name["uio_maxiov"].default_text() == (
        "next power of two >= 4 x ring size, at most 1024 (UIO_MAXIOV 1024 : ring 256)")
    assert by_name["max_pend"].default_text() == "ring size / 2 (VHOST_MAX_PEND 128 : ring 256)"
    assert by_name["initial_backend"].default_text() == "zerocopy"
    assert Param("b", "a switch", True, kind=bool).default_text() == "true"
    assert Param("d", "derived", lambda v: 1).default_text() == "derived"
    environment = [p.name for p in V9.parameters if p.environment]
    assert environment == ["zcopytx", "initial_backend", "guest", "rogue_posts", "lower_device",
                           "sndbuf", "release", "init_used_failures", "device_progress",
                           "mutex_fairness", "guest_progress"]


def test_params_are_read_only() -> None:
    p = Counter().p
    with pytest.raises(AttributeError, match="parameters are read-only"):
        p.modulus = 5
    with pytest.raises(AttributeError, match="nope"):
        _ = p.nope
    d = p.as_dict()
    d["modulus"] = 7
    assert p.modulus == 4


# -- variables -----------------------------------------------------------------------


def test_var_constructors_and_ranges() -> None:
    x = int_var("x", -1, 3, "doc")
    assert (x.lo, x.hi, x.size, x.is_bool, x.ghost, x.doc) == (-1, 3, None, False, False, "doc")
    assert [x.in_range(v) for v in (-2, -1, 3, 4, True, 1.0)] == [False, True, True, False,
                                                                  False, False]
    b = bool_var("b", ghost=True)
    assert b.is_bool and b.ghost and b.size is None
    assert [b.in_range(v) for v in (True, False, 0, 1)] == [True, True, False, False]
    a = int_array("a", 3, 0, 2)
    assert (a.size, a.lo, a.hi) == (3, 0, 2)
    ba = bool_array("ba", 2)
    assert ba.size == 2 and ba.is_bool


def test_default_values_clamp_into_the_range() -> None:
    class Ranges(Model):
        name = "ranges"

        def declare(self, p):
            return [int_var("neg", -1, 3), int_var("pos", 2, 5), int_var("below", -5, -2),
                    bool_var("flag"), int_array("arr", 2, 1, 4), bool_array("bits", 3)]

    m = Ranges()
    assert [default_value(m, i) for i in range(6)] == [0, 2, -2, False, (1, 1),
                                                      (False, False, False)]
    assert initial_state(m) == (0, 2, -2, False, (1, 1), (False, False, False))


def test_duplicate_variable_names_are_rejected() -> None:
    class Twice(Model):
        name = "twice"

        def declare(self, p):
            return [int_var("x", 0, 1), bool_var("x")]

    with pytest.raises(ModelError, match="model twice: two state variables share a name"):
        Twice()


def test_initial_states_of_the_reference_models() -> None:
    assert initial_state(Counter()) == (0,)
    assert initial_state(Lock({"procs": 3})) == ((0, 0, 0), False)
    assert initial_state(Cells()) == ((0, 0), 0)


def test_as_dict_from_dict_round_trip() -> None:
    m = V9()
    init = initial_state(m)
    d = as_dict(m, init)
    assert list(d) == [v.name for v in m.vars]
    assert d["g_owned"] == [True, True]
    assert isinstance(d["rc"], list)
    assert from_dict(m, d) == init
    d["rc"][1] = 5
    assert from_dict(m, d)[m.var_index["rc"]] == (0, 5, 0)
    del d["upend"]
    with pytest.raises(KeyError, match="upend"):
        from_dict(m, d)


def test_changed_lists_scalars_and_array_elements() -> None:
    m = Cells({"cells": 3})
    before = from_dict(m, {"a": [0, 1, 2], "i": 0})
    after = from_dict(m, {"a": [2, 1, 0], "i": 2})
    assert list(changed(m, before, after)) == [("a[0]", 0, 2), ("a[2]", 2, 0), ("i", 0, 2)]
    assert list(changed(m, before, before)) == []


# -- actions and instances ---------------------------------------------------------


def test_action_instance_labels() -> None:
    m = V9()
    labels = [i.label for i in m.instances]
    for label in ("guest_post(h=0, large=1)", "guest_post(h=1, large=0)", "guest_kick",
                  "dev_complete(k=2)", "dev_done_signal(o=2)", "set_backend(to=1)",
                  "tx_zerocopy_bookkeeping"):
        assert label in labels
    assert "dev_complete(k=3)" not in labels  # device_capacity = 3: k in 0..2
    assert len(labels) == len(set(labels))
    inst = m.instance("guest_post(h=0, large=1)")
    assert inst.name == "guest_post"
    assert inst.args == (("h", 0), ("large", 1))
    assert inst.kwargs() == {"h": 0, "large": 1}
    assert inst.spec.actor == "guest"
    assert m.instances[inst.index] is inst
    assert [i.index for i in m.instances] == list(range(len(m.instances)))
    with pytest.raises(KeyError):
        m.instance("guest_post(h=2, large=1)")


def test_instances_follow_the_parameter_domains() -> None:
    def count(m: Model, name: str) -> int:
        return sum(1 for i in m.instances if i.name == name)

    linux, rogue = V9(), V9({"guest": "rogue"})
    assert count(linux, "guest_post") == 4  # h in 0..1, large in 0..1
    assert count(linux, "guest_post_rogue") == 0  # empty domain: no instance
    assert count(rogue, "guest_post_rogue") == 6  # h in 0..2 (2 = any head >= num)
    assert len(rogue.instances) - len(linux.instances) == 6
    assert count(V9({"ring_size": 3}), "dev_complete") == 4
    assert count(V9({"max_backend_changes": 2}), "dev_done_signal") == 3
    assert [i.label for i in Lock().instances] == [
        "want(i=0)", "want(i=1)", "enter(i=0)", "enter(i=1)", "leave(i=0)", "leave(i=1)"]
    assert [i.label for i in Cells().instances] == ["move", "put(v=1)", "put(v=2)", "clear"]


def test_action_spec_metadata() -> None:
    m = V9()
    spec = m.action_spec("tx_zerocopy_bookkeeping")
    assert spec.actor == "worker"
    assert spec.function == "handle_tx"
    assert "vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV" in spec.code
    assert spec.over is None
    with pytest.raises(KeyError):
        m.action_spec("no_such_action")
    assert {s.actor for s in m.action_specs} == {"guest", "worker", "device", "control"}


class AlwaysKick(V9):
    """guest_kick overridden with @action: kicks even when NO_NOTIFY is set."""

    name = "always-kick"

    @action("guest", "virtqueue_kick", "notify the host regardless of VRING_USED_F_NO_NOTIFY")
    def guest_kick(self, s: StateView) -> None:
        s.require(s.g_kick)
        s.g_kick = False
        s.kick_q = True


def test_override_with_action_replaces_the_step() -> None:
    base, derived = V9(), AlwaysKick()
    assert len(derived.instances) == len(base.instances)
    assert [i.label for i in derived.instances] == [i.label for i in base.instances]
    kick = derived.instance("guest_kick")
    assert kick.spec.code == "notify the host regardless of VRING_USED_F_NO_NOTIFY"
    # the state where v9's kick is disabled: the guest was asked not to notify
    d = as_dict(base, initial_state(base))
    d.update(g_kick=True, no_notify=True, kick_q=False)
    state = from_dict(base, d)
    assert fire(base, base.instance("guest_kick"), state) is None
    after = fire(derived, kick, state)
    assert after is not None
    assert as_dict(derived, after)["kick_q"] is True


def test_override_without_action_is_an_error() -> None:
    class Plain(V9):
        name = "plain"

        def guest_kick(self, s: StateView) -> None:
            s.g_kick = False

    with pytest.raises(ModelError, match=r"Plain\.guest_kick overrides an action without @action"):
        Plain()


def test_unknown_actor_is_an_error() -> None:
    class Stranger(Model):
        name = "stranger"
        actors = ("a",)

        def declare(self, p):
            return [int_var("x", 0, 1)]

        @action("b", "f", "x = 1;")
        def go(self, s: StateView) -> None:
            s.x = 1

    with pytest.raises(ModelError, match="action go: unknown actor 'b'"):
        Stranger()


def test_misspelt_override_is_an_error() -> None:
    class Typo(V9):
        name = "typo"

        @action("guest", "virtqueue_kick", "kick")
        def guest_kik(self, s: StateView) -> None:
            s.g_kick = False

    with pytest.raises(ModelError) as err:
        Typo()
    text = str(err.value)
    assert "Typo.guest_kik" in text
    assert "did you mean 'guest_kick'?" in text
    assert "adds=True" in text


def test_new_step_with_adds() -> None:
    class Extra(Counter):
        name = "extra"

        @action("reset", "counter_halve", "x /= 2;", adds=True)
        def halve(self, s: StateView) -> None:
            s.x = s.x // 2

    m = Extra()
    assert [i.label for i in m.instances] == ["inc", "reset", "halve"]
    assert fire(m, m.instance("halve"), (3,)) == (1,)


# -- state views -----------------------------------------------------------------------


def view(model: Model, state=None) -> StateView:
    return StateView(model, initial_state(model) if state is None else state)


def test_view_reads_and_writes_sequentially() -> None:
    s = view(Cells())
    s.i = 1
    s.a[s.i] = 2  # indexed by a variable, after the write to i
    assert s.a[1] == 2 and s.a[0] == 0
    assert len(s.a) == 2 and list(s.a) == [0, 2]
    s.a = [1, 1]
    assert s.values() == ((1, 1), 1)
    s.reset(((0, 0), 0))
    assert s.values() == ((0, 0), 0)
    assert s.p.cells == 2
    assert s.symbolic is False


def test_view_unknown_variable_is_an_attribute_error() -> None:
    s = view(Counter())
    with pytest.raises(AttributeError, match="model counter has no state variable 'y'"):
        _ = s.y
    with pytest.raises(AttributeError, match="model counter has no state variable 'y'"):
        s.y = 1


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda s: setattr(s, "x", 4), r"x := 4 is outside its type \[0, 3\]"),
        (lambda s: setattr(s, "x", -1), r"x := -1 is outside its type \[0, 3\]"),
        (lambda s: setattr(s, "x", True), r"x := True is outside its type \[0, 3\]"),
    ],
)
def test_view_out_of_range_scalar_write_is_a_model_bug(write, message: str) -> None:
    with pytest.raises(ModelBug, match=message):
        write(view(Counter()))


def test_view_array_and_bool_type_errors() -> None:
    s = view(Lock())
    with pytest.raises(ModelBug, match=r"pc := 3 is outside its type \[0, 2\]"):
        s.pc[0] = 3
    with pytest.raises(ModelBug, match=r"locked := 1 is outside its type \[0, 1\]"):
        s.locked = 1
    with pytest.raises(ModelBug, match="pc: array of 2 elements assigned 3"):
        s.pc = [0, 0, 0]
    with pytest.raises(ModelBug, match=r"pc := 5 is outside its type"):
        s.pc = [0, 5]
    with pytest.raises(ModelBug, match=r"pc := 7 is outside its type"):
        s.pc.set_if(True, 0, 7)
    assert s.values() == ((0, 0), False)  # nothing was written


def test_set_if_with_a_false_condition_writes_nothing() -> None:
    s = view(Cells())
    s.a.set_if(False, 99, 0)  # index out of range: never evaluated as a write
    s.a.set_if(False, 0, 99)  # value out of range: not written, so not checked
    assert s.values() == ((0, 0), 0)
    s.a.set_if(True, 1, 2)
    assert s.values() == ((0, 2), 0)
    with pytest.raises(IndexError, match="model wrote an array of 2 elements at 2"):
        s.a.set_if(True, 2, 1)


def test_view_index_out_of_range() -> None:
    s = view(Cells())
    with pytest.raises(IndexError, match="model indexed an array of 2 elements at 2"):
        _ = s.a[2]
    with pytest.raises(IndexError, match="model wrote an array of 2 elements at -1"):
        s.a[-1] = 1


def test_require_capacity_and_enabled() -> None:
    s = view(Counter())
    s.require(True)
    with pytest.raises(Disabled):
        s.require(s.x == 1)
    s.capacity(True, "room")
    with pytest.raises(CapacityReached) as hit:
        s.capacity(False, "room for x")
    assert hit.value.what == "room for x"
    with pytest.raises(ModelBug, match=r"enabled\(\) is only available to properties"):
        s.enabled("inc")
    prop_view = property_view(Counter(), (0,), {"inc"})
    assert prop_view.enabled("inc") is True
    assert prop_view.enabled("reset") is False
    assert prop_view.enabled("reset", "inc") is True


def test_view_operators() -> None:
    s = view(Lock({"procs": 3}))
    assert s.ite(True, 1, 2) == 1 and s.ite(False, 1, 2) == 2
    assert s.all() is True and s.any() is False
    assert s.all(True, 1) is True and s.all(True, False) is False
    assert s.any(False, True) is True
    assert s.neg(True) is False
    assert s.implies(False, False) is True and s.implies(True, False) is False
    s.pc = [2, 0, 2]
    assert s.count(s.pc[i] == 2 for i in range(3)) == 2
    assert s.count([]) == 0


def test_fire_disabled_capacity_and_bug() -> None:
    c = Counter()
    assert fire(c, c.instance("reset"), (0,)) is None
    assert fire(c, c.instance("reset"), (2,)) == (0,)
    assert fire(c, c.instance("inc"), (3,)) == (0,)
    b = reference_models.Bounded()
    with pytest.raises(CapacityReached, match="pool of n"):
        fire(b, b.instance("produce"), (3,))

    class Overflow(Counter):
        name = "overflow"

        @action("inc", "counter_inc", "x++;  /* no wrap: a model bug */")
        def inc(self, s: StateView) -> None:
            s.x = s.x + 1

    o = Overflow()
    assert fire(o, o.instance("inc"), (2,)) == (3,)
    with pytest.raises(ModelBug, match=r"x := 4 is outside its type \[0, 3\]"):
        fire(o, o.instance("inc"), (3,))


# -- the concrete backend -------------------------------------------------------------


def test_concrete_backend() -> None:
    b = ConcreteBackend()
    assert CONCRETE.symbolic is False
    arr = (5, 6, 7)
    assert b.select(arr, 0) == 5 and b.select(arr, 2) == 7
    assert b.store(arr, 1, 0) == (5, 0, 7)
    assert arr == (5, 6, 7)  # stores copy
    assert b.store_if(arr, False, 1, 0) is arr
    assert b.store_if(arr, True, 1, 0) == (5, 0, 7)
    assert b.store_if(arr, False, 10, 0) is arr  # out of range but not taken
    assert b.ite(1, "a", "b") == "a" and b.ite(0, "a", "b") == "b"
    assert b.and_() is True and b.or_() is False and b.not_(0) is True


@pytest.mark.parametrize("index", [3, -1, 100])
def test_concrete_backend_select_out_of_range(index: int) -> None:
    with pytest.raises(IndexError, match=f"model indexed an array of 3 elements at {index}"):
        CONCRETE.select((1, 2, 3), index)


@pytest.mark.parametrize("index", [3, -1])
def test_concrete_backend_store_out_of_range(index: int) -> None:
    with pytest.raises(IndexError, match=f"model wrote an array of 3 elements at {index}"):
        CONCRETE.store((1, 2, 3), index, 0)
    with pytest.raises(IndexError, match=f"model wrote an array of 3 elements at {index}"):
        CONCRETE.store_if((1, 2, 3), True, index, 0)


# -- properties as declared ----------------------------------------------------------


def test_properties_in_a_module_keep_declaration_order() -> None:
    names = [p.name for p in properties_in(reference_models)]
    assert names == ["x-not-bad", "x-in-range", "counter-live", "reset-enabled", "x-not-4",
                     "mutual-exclusion", "lock-consistent", "n-nonnegative", "n-not-2",
                     "not-all-two", "cells-in-range"]


def test_describe_violation_default_and_explain() -> None:
    @invariant("plain", "x is small")
    def plain(s):
        return s.x < 2

    s = property_view(Counter(), (3,), set())
    assert plain.describe_violation(s) == "plain is false (x is small): it read x = 3"
    assert reference_models.x_not_bad.describe_violation(s) == "x reached the bad value 3"
    assert plain.predicate(s) is False


def test_var_dataclass_is_frozen() -> None:
    v = Var("x")
    with pytest.raises(AttributeError):
        v.hi = 3  # type: ignore[misc]
    assert (v.lo, v.hi) == (0, 1)


# -- value names ---------------------------------------------------------------------


@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_each_named_value_range_is_the_variables_whole_range(revision: str) -> None:
    from checker.runs.catalog import load_revision

    model = load_revision(revision)({"ring_size": 2})
    named = model.presentation.value_names
    assert {"w_pc", "c_pc", "heads_len"} <= set(named)
    for name, names in named.items():
        var = model.vars[model.var_index[name]]
        assert (var.lo, var.hi) == (0, len(names) - 1), name
        assert len(set(names)) == len(names), name


def test_shown_names_a_value_after_its_number_and_leaves_the_rest() -> None:
    shown = V9.presentation.shown
    assert shown("w_pc", 9) == "9 (sendmsg)"
    assert shown("heads_len[3]", 1) == "1 (done)"
    assert shown("heads_len", [2, 0]) == "[2 (in-flight), 0 (clear)]"
    assert shown("w_pc", 99) == "99"  # beyond the names: the number alone
    assert shown("upend", 3) == "3" and shown("w_zcopy", True) == "true"
