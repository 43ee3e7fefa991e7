"""The model API: typed state variables, guarded actions, named properties.

A model is a subclass of :class:`Model`.  It declares

* its parameters (:class:`Param`), with defaults that may depend on other
  parameters;
* its state variables (:meth:`Model.declare`), each a bounded int, a bool or
  a fixed-size array of those;
* its initial state (:meth:`Model.init`), written on a state view;
* its actions, methods decorated with :func:`action`.  An action names its
  actor, the kernel function and the patch statement(s) it stands for; its
  body calls ``s.require(...)`` for its guard and assigns state variables.

The model knows nothing of engines: the explicit explorer and the Z3
engines both execute the same methods on a :class:`checker.lang.view.StateView`
over their own backend.  A revision of a patch is a subclass that overrides
only the actions (and helpers) the new version changes; a step that is new
in the revision says ``@action(..., adds=True)`` (docs/extending.md).
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from checker.lang.assume import Assumption
from checker.lang.presentation import DEFAULT_ENVIRONMENTS, Environment, Presentation

if TYPE_CHECKING:
    from checker.lang.dead import Assumption as AssumedInvariant
    from checker.lang.dead import DeadValue
    from checker.lang.fairness import Fair
    from checker.lang.view import StateView

FairnessDecl = Any
"""A step's declared fairness: ``"weak"``, ``"strong"``, ``None`` (none), or a
function of the parameters returning one of those."""

UNDECLARED = object()
"""The ``fairness=`` default of :func:`action`: the step declares nothing."""

State = tuple[Any, ...]
"""A concrete state: one entry per variable, arrays as tuples."""


class ModelError(Exception):
    """The model or its parameters are inconsistent (a user-facing error)."""


@dataclass(frozen=True)
class Var:
    """A bounded state variable: an int in ``[lo, hi]``, a bool, or an array of them."""

    name: str
    lo: int = 0
    hi: int = 1
    size: int | None = None
    is_bool: bool = False
    ghost: bool = False
    doc: str = ""

    def in_range(self, value: Any) -> bool:
        """Whether a concrete scalar value fits this variable's type."""
        if self.is_bool:
            return isinstance(value, bool)
        return isinstance(value, int) and not isinstance(value, bool) and self.lo <= value <= self.hi


def int_var(name: str, lo: int, hi: int, doc: str = "", ghost: bool = False) -> Var:
    """An int state variable in ``[lo, hi]``."""
    return Var(name, lo, hi, None, False, ghost, doc)


def bool_var(name: str, doc: str = "", ghost: bool = False) -> Var:
    """A bool state variable."""
    return Var(name, 0, 1, None, True, ghost, doc)


def int_array(name: str, size: int, lo: int, hi: int, doc: str = "", ghost: bool = False) -> Var:
    """A fixed-size array of ints in ``[lo, hi]``."""
    return Var(name, lo, hi, size, False, ghost, doc)


def bool_array(name: str, size: int, doc: str = "", ghost: bool = False) -> Var:
    """A fixed-size array of bools."""
    return Var(name, 0, 1, size, True, ghost, doc)


@dataclass(frozen=True)
class Param:
    """A model parameter or environment switch, settable from the CLI.

    ``default`` is a value or a function of the parameters resolved so far
    (in declaration order).  ``choices`` makes it an enumerated switch.
    """

    name: str
    help: str
    default: Any
    kind: type = int
    minimum: int | None = None
    choices: tuple[str, ...] | None = None
    environment: bool = False

    @property
    def option(self) -> str:
        """The command-line option that sets this parameter."""
        return "--" + self.name.replace("_", "-")

    def default_text(self) -> str:
        """The default as a user reads it in ``--help`` and ``vhostmc list``."""
        if callable(self.default):
            return str(getattr(self.default, "__doc__", None) or "derived")
        return str(self.default).lower() if self.kind is bool else str(self.default)


@dataclass(frozen=True)
class ActionSpec:
    """An action declared with :func:`action`: the code it models, its actor, its parameters."""

    name: str
    actor: str
    function: str
    code: str
    body: Callable[..., None]
    over: Callable[[Any], Mapping[str, Iterable[int]]] | None


@dataclass(frozen=True)
class ActionInstance:
    """One action with concrete arguments: a single labelled transition kind."""

    spec: ActionSpec
    args: tuple[tuple[str, int], ...]
    index: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        """``name`` or ``name(arg=v, ...)``, as printed in traces."""
        if not self.args:
            return self.spec.name
        inner = ", ".join(f"{k}={v}" for k, v in self.args)
        return f"{self.spec.name}({inner})"

    def kwargs(self) -> dict[str, int]:
        return dict(self.args)


def action(
    actor: str,
    function: str,
    code: str,
    over: Callable[[Any], Mapping[str, Iterable[int]]] | None = None,
    adds: bool = False,
    fairness: FairnessDecl = UNDECLARED,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare a model method as a guarded action.

    ``function`` is the kernel function the step belongs to, ``code`` the
    patch statement(s) it stands for, quoted.  ``over`` maps the parameters
    to the finite domain of each keyword argument of the method, e.g.
    ``over=lambda p: {"h": range(p.ring_size)}``.

    ``adds`` says the step is new in a revision: a subclass of a model that
    already has actions may only override steps its base declares, unless it
    says ``adds=True`` (so a misspelt override is an error, not a new step
    that never runs); ``adds=True`` on a step the base has is an error too.

    ``fairness`` (for a new step) is ``"weak"`` or ``"strong"`` (each instance
    of the step is then fair, :mod:`checker.lang.fairness`), ``None`` (it is
    not), or a function of the parameters giving one of those.  A new step of
    an actor the base model treats fairly must say which
    (:meth:`Model.check_new_step_fairness`).
    """

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        fn.__vhostmc_action__ = (actor, function, code, over)  # type: ignore[attr-defined]
        fn.__vhostmc_adds__ = adds  # type: ignore[attr-defined]
        if fairness is not UNDECLARED:
            fn.__vhostmc_fairness__ = fairness  # type: ignore[attr-defined]
        return fn

    return mark


def source_location(fn: Any) -> str:
    """``file:line`` of a function's definition (its first decorator), or its name.

    A step built by :func:`checker.lang.split.split_step` is located at the
    function the revision wrote for it (its part's body, or the base step).
    """
    fn = getattr(fn, "__vhostmc_body__", None) or getattr(fn, "__vhostmc_split_of__", None) or fn
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    return f"{code.co_filename}:{code.co_firstlineno}"


class Params:
    """Resolved parameter values, read as attributes (``p.ring_size``)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("parameters are read-only")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


class Model:
    """Base class of every transition system vhostmc checks."""

    name: ClassVar[str] = "model"
    description: ClassVar[str] = ""
    parameters: ClassVar[tuple[Param, ...]] = ()
    actors: ClassVar[tuple[str, ...]] = ()
    presentation: ClassVar[Presentation] = Presentation()
    """What charts and graphs show of this model (:mod:`checker.lang.presentation`)."""
    environments: ClassVar[tuple[Environment, ...]] = DEFAULT_ENVIRONMENTS
    """Named presets of the switches (``vhostmc matrix --envs``), ``default`` first."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self.p = self.resolve_params(overrides or {})
        self.vars: tuple[Var, ...] = (tuple(self.declare(self.p))
                                      + tuple(self.extension_vars(self.p)))
        self.var_index: dict[str, int] = {v.name: i for i, v in enumerate(self.vars)}
        if len(self.var_index) != len(self.vars):
            raise ModelError(f"model {self.name}: two state variables share a name")
        self.assumption_list: tuple[Assumption, ...] = tuple(self.assumptions())
        self.action_specs: tuple[ActionSpec, ...] = tuple(self._collect_actions())
        self.instances: tuple[ActionInstance, ...] = tuple(self._instantiate())
        self._by_label = {inst.label: inst for inst in reversed(self.instances)}  # first wins
        self.check_new_step_fairness()
        own = self.fairness
        self.fairness = lambda: [*own(), *self.declared_fairness()]  # type: ignore[method-assign]

    # -- parameters -------------------------------------------------------
    @classmethod
    def resolve_params(cls, overrides: Mapping[str, Any]) -> Params:
        """Fill in defaults, check types and ranges, then :meth:`validate`."""
        known = {p.name: p for p in cls.parameters}
        for key in overrides:
            if key not in known:
                raise ModelError(f"unknown parameter '{key}' for revision {cls.name}")
        values: dict[str, Any] = {}
        for spec in cls.parameters:
            given = overrides.get(spec.name)
            if given is None:
                value = spec.default(values) if callable(spec.default) else spec.default
            else:
                value = given
            if spec.choices is not None and value not in spec.choices:
                raise ModelError(
                    f"{spec.option} must be one of {', '.join(spec.choices)}, not '{value}'"
                )
            if spec.kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ModelError(f"{spec.option} must be an integer, not '{value}'")
                if spec.minimum is not None and value < spec.minimum:
                    raise ModelError(f"{spec.option} must be at least {spec.minimum}, not {value}")
            values[spec.name] = value
        params = Params(values)
        cls.validate(params)
        return params

    @classmethod
    def validate(cls, p: Params) -> None:
        """Raise :class:`ModelError` for parameter combinations the model rejects."""

    # -- declaration hooks --------------------------------------------------
    def declare(self, p: Params) -> Sequence[Var]:
        """The state variables, in the order states store them."""
        raise NotImplementedError

    def init(self, s: StateView) -> None:
        """Write the initial state on ``s`` (every variable starts at its ``lo``/False)."""

    def fairness(self) -> list[Fair]:
        """The fairness assumptions liveness properties are judged under (none by default).

        On an instance, ``fairness()`` also returns what new steps declare with
        ``@action(..., fairness=...)`` (:meth:`declared_fairness`).
        """
        return []

    def extension_vars(self, p: Params) -> list[Var]:
        """State variables the model's extensions need (split-step contexts, RCU), after
        :meth:`declare`'s: every method marked ``__vhostmc_vars__`` contributes its own."""
        out: list[Var] = []
        seen: set[int] = set()
        for name in sorted(dir(type(self))):
            fn = getattr(type(self), name, None)
            make = getattr(fn, "__vhostmc_vars__", None)
            if make is not None and id(make) not in seen:
                seen.add(id(make))
                out.extend(make(self, p))
        return out

    # -- environment assumptions --------------------------------------------
    def assumptions(self) -> list[Assumption]:
        """Every ``@assume`` declaration of the model (:mod:`checker.lang.assume`), by name."""
        out = []
        for name in sorted(dir(type(self))):
            fn = getattr(type(self), name, None)
            mark = getattr(fn, "__vhostmc_assume__", None)
            if mark is not None:
                label, statement, actors, actions = mark
                out.append(Assumption(label, statement, actors, actions, name,
                                      source_location(fn)))
        return out

    def _assumed(self, actor: str, attr: str, body: Callable[..., None]) -> Callable[..., None]:
        """``body`` preceded by the guard of every assumption that restricts the step."""
        chosen = [a for a in self.assumption_list if a.selects(actor, attr)]
        if not chosen:
            return body
        methods = [getattr(self, a.method) for a in chosen]

        def guarded(s: StateView, **args: int) -> None:
            for method in methods:
                s.require(method(s))
            body(s, **args)

        guarded.__wrapped__ = body  # type: ignore[attr-defined]
        return guarded

    # -- fairness of new steps ------------------------------------------------
    def new_steps(self) -> list[str]:
        """Steps the model's most derived revision layers add (``adds=True``)."""
        return [spec.name for spec in self.action_specs
                if getattr(getattr(type(self), spec.name), "__vhostmc_adds__", False)]

    def step_fairness(self, step: str) -> Any:
        """The fairness a step declares (``UNDECLARED`` when it declares none)."""
        decl = getattr(getattr(type(self), step), "__vhostmc_fairness__", UNDECLARED)
        if decl is not UNDECLARED and callable(decl):
            decl = decl(self.p)
        if decl not in (UNDECLARED, None, "weak", "strong"):
            raise ModelError(f"{source_location(getattr(type(self), step))}: step {step}: "
                             f"fairness must be 'weak', 'strong' or None, not {decl!r}")
        return decl

    def declared_fairness(self) -> list[Fair]:
        """One constraint per step that declares ``fairness='weak'`` or ``'strong'``."""
        from checker.lang.fairness import Fair

        out = []
        for spec in self.action_specs:
            kind = self.step_fairness(spec.name)
            if kind in ("weak", "strong"):
                where = source_location(getattr(type(self), spec.name))
                out.append(Fair(kind, f"declared with the step ({where})", actions=(spec.name,),
                                each=True))
        return out

    def check_new_step_fairness(self) -> None:
        """Refuse a new step of a fairly treated actor that declares no fairness.

        An actor is treated fairly when one of :meth:`fairness`'s constraints
        selects one of its steps the base already has.  A new step of such an
        actor that no constraint selects either declares ``fairness=`` or is an
        error (:class:`ModelError` naming its ``file:line``): otherwise the
        actor could stop for ever inside the new step, and liveness verdicts
        would report runs the base model rules out.
        """
        added = set(self.new_steps())
        if not added:
            return
        constraints = type(self).fairness(self)
        fair_actors = {inst.spec.actor for inst in self.instances for fair in constraints
                       if inst.name not in added and fair.selects(inst)}
        for spec in self.action_specs:
            if spec.name not in added or spec.actor not in fair_actors:
                continue
            if self.step_fairness(spec.name) is not UNDECLARED:
                continue
            mine = [inst for inst in self.instances if inst.spec is spec]
            if mine and all(any(f.selects(i) for f in constraints) for i in mine):
                continue
            where = source_location(getattr(type(self), spec.name))
            raise ModelError(
                f"{where}: new step {spec.name} of actor {spec.actor}, which the base model "
                "treats fairly, says nothing about fairness; declare fairness=\"weak\" (or "
                "\"strong\") in its @action, or fairness=None if it may be postponed for ever"
            )
    def relations(self) -> list[tuple[str, bool]]:
        """Relations the model's scaled constants keep in the kernel, each with whether
        these parameters keep it (``vhostmc list`` shows them); none by default."""
        return []

    def broken_relations(self) -> list[str]:
        """One line per relation these parameters break (a warning of ``vhostmc check``)."""
        return [f"relation broken: {text}" for text, kept in self.relations() if not kept]

    def dead_values(self) -> Sequence[DeadValue | AssumedInvariant]:
        """Values the model can never read again, and when (none by default):
        declarations made with :func:`checker.lang.dead.dead_when`, and the
        invariants their proof may assume (:func:`checker.lang.dead.assuming`)."""
        return ()

    # -- actions ----------------------------------------------------------
    @classmethod
    def action_marks(cls) -> dict[str, tuple[Any, ...]]:
        """``{name: (actor, function, code, over)}`` of every action, base classes first.

        Raises :class:`ModelError` (naming ``file:line``) when a class overrides
        an action with a plain method, uses an unknown actor, declares a step
        its base model does not have without ``adds=True``, or says
        ``adds=True`` for a step its base already has.  Steps of a library mixin
        (``__vhostmc_library__``, e.g. :class:`checker.lang.rcu.RcuModel`'s
        ``rcu_callback``) do not make a class a "base" whose steps must be overridden.
        """
        marks: dict[str, tuple[Any, ...]] = {}
        for klass in reversed(cls.__mro__):
            inherited = {
                attr
                for base in klass.__mro__[1:]
                for attr, fn in vars(base).items()
                if hasattr(fn, "__vhostmc_action__")
                and not getattr(fn, "__vhostmc_library__", False)
            }
            for attr, fn in vars(klass).items():
                mark = getattr(fn, "__vhostmc_action__", None)
                if mark is None:
                    if attr in marks and callable(fn):
                        raise ModelError(
                            f"{source_location(fn)}: {klass.__name__}.{attr} overrides an action "
                            "without @action"
                        )
                    continue
                where = source_location(fn)
                if mark[0] not in cls.actors:
                    raise ModelError(f"{where}: action {attr}: unknown actor '{mark[0]}'")
                adds = bool(getattr(fn, "__vhostmc_adds__", False))
                if inherited and attr not in inherited and not adds:
                    close = difflib.get_close_matches(attr, sorted(inherited), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise ModelError(
                        f"{where}: {klass.__name__}.{attr} is not a step of its base{hint}; "
                        "a step new in this revision must say @action(..., adds=True)"
                    )
                if adds and attr in inherited:
                    raise ModelError(
                        f"{where}: {klass.__name__}.{attr} says adds=True but its base already "
                        "has this step; drop adds=True to override it"
                    )
                marks[attr] = mark
        return marks

    def _collect_actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(attr, actor, function, code,
                       self._assumed(actor, attr, getattr(self, attr)), over)
            for attr, (actor, function, code, over) in self.action_marks().items()
        ]

    def _instantiate(self) -> list[ActionInstance]:
        out: list[ActionInstance] = []
        for spec in self.action_specs:
            if spec.over is None:
                out.append(ActionInstance(spec, (), len(out)))
                continue
            domains = spec.over(self.p)
            names = list(domains)
            for combo in itertools.product(*(list(domains[n]) for n in names)):
                out.append(ActionInstance(spec, tuple(zip(names, combo)), len(out)))
        return out

    def instance(self, label: str) -> ActionInstance:
        """The action instance printed as ``label``; ``KeyError`` if none."""
        return self._by_label[label]

    def action_spec(self, name: str) -> ActionSpec:
        for spec in self.action_specs:
            if spec.name == name:
                return spec
        raise KeyError(name)


def check_fairness_names(model: Model, constraints: Sequence[Fair]) -> None:
    """Raise :class:`checker.lang.model.ModelError` when a constraint names an actor or an
    action (in ``actions`` or ``except_actions``) the model does not have, with the
    closest known name ("did you mean ...")."""
    actions = sorted({spec.name for spec in model.action_specs})
    actors = sorted(model.actors)
    for fair in constraints:
        for field_name, names, known in (("actors", fair.actors, actors),
                                         ("actions", fair.actions, actions),
                                         ("except_actions", fair.except_actions, actions)):
            for name in names:
                if name in known:
                    continue
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ModelError(
                    f"revision {model.name}: fairness '{fair.why}' names {field_name} "
                    f"'{name}', which the model does not have{hint}")
