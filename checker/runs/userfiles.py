"""Revisions and properties a user writes in their own Python files.

``vhostmc check --revision PATH.py`` and ``--spec PATH.py`` load such files
from any path.  A revision file defines a :class:`~checker.lang.model.Model`
subclass (``MODEL`` if the file sets it, else the single subclass defined
there); a spec file defines properties with
:func:`checker.lang.spec.invariant`.  Every problem in a user file becomes a
:class:`~checker.lang.model.ModelError` whose message starts with ``file:line``,
which the CLI prints as one line (exit 2).

A property is a predicate over a :class:`~checker.lang.view.StateView`, so a
user's property runs in every engine as the built-in ones do.
:func:`preflight` evaluates each selected property once on the initial
state before a search starts, and :func:`guarded` wraps a property so that
an exception during the search names the property and its ``file:line``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from checker.lang import revision as revision_api
from checker.lang.model import Model, ModelError, source_location
from checker.lang.spec import Property, properties_in
from checker.semantics.states import enabled_actors, initial_state, property_view

_MODULES: dict[Path, ModuleType] = {}
"""Loaded user files by resolved path: loading a file twice gives the same classes."""

_LOADING: set[Path] = set()
"""Files being loaded now: a revision file that extends itself through others is a cycle."""

_UNKNOWN_VAR = re.compile(r"has no state variable '(\w+)'")


def looks_like_path(text: str) -> bool:
    """Whether a ``--revision``/``--revisions`` value names a file rather than a revision."""
    return text.endswith(".py") or "/" in text or "\\" in text


def _frame_in(tb: TracebackType | None, filename: str) -> int | None:
    """The line of the innermost traceback frame executing ``filename``."""
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == filename:
            line = lineno
    return line


def user_frame(err: BaseException) -> str | None:
    """``file:line`` of the innermost frame of ``err`` in a loaded user file, if any."""
    files = {m.__file__ for m in _MODULES.values()}
    where = None
    for frame, lineno in traceback.walk_tb(err.__traceback__):
        if frame.f_code.co_filename in files:
            where = f"{frame.f_code.co_filename}:{lineno}"
    return where


def user_file_of(cls: type) -> str | None:
    """The user file that defines ``cls`` or one of its bases, if any."""
    by_name = {m.__name__: m.__file__ for m in _MODULES.values()}
    for klass in cls.__mro__:
        if klass.__module__ in by_name:
            return by_name[klass.__module__]
    return None


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def load_module(path_text: str, kind: str) -> ModuleType:
    """Import the Python file ``path_text`` (a revision or spec ``kind``) once.

    Raises :class:`ModelError` naming ``file:line`` for a missing file, a
    syntax error or an exception while the file runs.
    """
    path = Path(path_text)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a file"
        raise ModelError(f"{kind} file {path_text} {what}")
    key = path.resolve()
    if key in _MODULES:
        return _MODULES[key]
    if key in _LOADING:
        raise ModelError(f"{path_text}: revision files extend each other in a cycle; "
                         "a file may not extend itself, directly or through others")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{path_text}: cannot read the {kind} file: {err}") from None
    try:
        code = compile(source, path_text, "exec")
    except SyntaxError as err:
        raise ModelError(f"{path_text}:{err.lineno}: syntax error: {err.msg}") from None
    digest = hashlib.sha1(str(key).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"vhostmc_user_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path_text)
    if spec is None:  # pragma: no cover - only for paths importlib refuses
        raise ModelError(f"{path_text}: cannot be loaded as a Python file")
    module = importlib.util.module_from_spec(spec)
    module.__file__ = path_text  # as the user wrote it: the file name of its code and messages
    sys.modules[name] = module
    _LOADING.add(key)
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the user's model is the point
    except ModelError as err:
        sys.modules.pop(name, None)
        raise ModelError(str(err)) from None
    except Exception as err:  # noqa: BLE001 - any error in user code becomes one line
        sys.modules.pop(name, None)
        line = _frame_in(err.__traceback__, path_text)
        where = f"{path_text}:{line}" if line is not None else path_text
        raise ModelError(f"{where}: error while loading the {kind} file: {_describe(err)}") from None
    finally:
        _LOADING.discard(key)
    _MODULES[key] = module
    return module


def load_revision_file(path_text: str) -> type[Model]:
    """The :class:`Model` subclass a revision file defines.

    ``MODEL`` if the file sets it, else the single Model subclass whose
    ``class`` statement is in the file.  A class that does not set ``name``
    is named after the file (``my_rev.py`` -> ``my_rev``), so its traces do
    not take the name of the revision it derives from.  The class's actions
    are checked at once (see :meth:`Model.action_marks`).
    """
    module = load_module(path_text, "revision")
    chosen = vars(module).get("MODEL")
    if chosen is not None:
        if not (isinstance(chosen, type) and issubclass(chosen, Model)):
            raise ModelError(f"{path_text}: MODEL must be a Model subclass, not {chosen!r}")
    else:
        found = [
            v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, Model) and v.__module__ == module.__name__
        ]
        if not found:
            raise ModelError(
                f"{path_text}: defines no Model subclass; derive one from a revision, "
                "e.g. 'from models.v9 import V9' and 'class MyRevision(V9): ...'"
            )
        if len(found) > 1:
            names = ", ".join(c.__name__ for c in found)
            raise ModelError(
                f"{path_text}: defines several Model subclasses ({names}); "
                "set MODEL = <the one to check>"
            )
        chosen = found[0]
    if "name" not in vars(chosen):
        chosen.name = Path(path_text).stem
    chosen.action_marks()
    return chosen


revision_api.set_loader(load_revision_file)


def load_spec_file(path_text: str) -> list[Property]:
    """The properties a spec file declares with ``@invariant``, in order."""
    module = load_module(path_text, "spec")
    props = properties_in(module)
    if not props:
        raise ModelError(
            f"{path_text}: defines no properties; declare one with "
            "'@invariant(name, statement)' from checker.lang.spec on a function of the state "
            "(or @leads_to / @eventually for liveness)"
        )
    return props


def property_location(prop: Property) -> str:
    """``file:line`` of a property's predicate (its ``@invariant`` line)."""
    return source_location(inspect.unwrap(prop.predicate))


def _error_line(prop: Property, err: BaseException) -> str:
    """``file:line`` of the innermost frame of ``err`` inside the property's file."""
    code = getattr(inspect.unwrap(prop.predicate), "__code__", None)
    if code is not None:
        line = _frame_in(err.__traceback__, code.co_filename)
        if line is not None:
            return f"{code.co_filename}:{line}"
    return property_location(prop)


def property_error(prop: Property, model: Model, err: BaseException) -> ModelError:
    """A one-line :class:`ModelError` for an exception raised by ``prop``."""
    where = _error_line(prop, err)
    if isinstance(err, AttributeError):
        found = _UNKNOWN_VAR.search(str(err))
        if found:
            close = difflib.get_close_matches(found.group(1), list(model.var_index), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return ModelError(
                f"{where}: property '{prop.name}' reads state variable '{found.group(1)}', "
                f"which revision {model.name} does not have{hint}; its declare() lists the "
                "variables (v9's: models/v9/state.py)"
            )
    return ModelError(f"{where}: property '{prop.name}' raised {_describe(err)}")


def not_boolean(prop: Property, value: Any) -> ModelError:
    """A one-line :class:`ModelError` for a property whose value is not a bool."""
    return ModelError(
        f"{property_location(prop)}: property '{prop.name}' returned "
        f"{type(value).__name__} {value!r}, not a bool; compare values (==, <, ...) "
        "or combine conditions with s.all / s.any / s.neg"
    )


def guarded(prop: Property, model: Model) -> Property:
    """``prop`` with a predicate that turns any exception or non-bool into a
    one-line :class:`ModelError` naming the property (for concrete searches)."""
    predicate = prop.predicate

    def check(s: Any, **args: int) -> Any:
        try:
            value = predicate(s, **args)
        except ModelError:
            raise
        except Exception as err:  # noqa: BLE001 - reported as one line naming the property
            raise property_error(prop, model, err) from None
        if not getattr(s, "symbolic", False):
            check_value(prop, value)
        return value

    check.__wrapped__ = predicate  # type: ignore[attr-defined]  # its location: the user's
    explain = prop.explain
    if explain is None:
        return dataclasses.replace(prop, predicate=check)

    def explained(s: Any, **args: int) -> str:
        try:
            return explain(s, **args)
        except ModelError:
            raise
        except Exception as err:  # noqa: BLE001 - reported as one line naming the property
            where = _frame_in(err.__traceback__, explain.__code__.co_filename) \
                if hasattr(explain, "__code__") else None
            at = (f"{explain.__code__.co_filename}:{where}" if where is not None
                  else source_location(explain))
            raise ModelError(
                f"{at}: the explanation of property '{prop.name}' cannot be evaluated on "
                f"revision {model.name}: it raised {_describe(err)}") from None

    return dataclasses.replace(prop, predicate=check, explain=explained)


PREFLIGHT_INSTANCES = 3
"""Instances of a parameterised property :func:`preflight` evaluates at most."""


def preflight(model: Model, props: Iterable[Property]) -> None:
    """Evaluate every property once on the initial state; raise on misuse.

    Catches a property that reads an unknown state variable, raises, or
    returns something other than a bool, before any search starts. Of a
    parameterised property only the first, a middle and the last instance are
    evaluated (:data:`PREFLIGHT_INSTANCES`): no-leak has one instance per head,
    each reading the whole used ring, so all of them at ring size 32768 cost
    hours; a misuse the others would show is still caught when the search
    evaluates them (:func:`guarded`).
    """
    init = initial_state(model)
    # interpreted: one state does not pay for compiling the model (the search compiles it)
    view = property_view(model, init, enabled_actors(model, init, compiled=False))
    for prop in props:
        for args in sampled_instances(prop, model):
            try:
                value = prop.predicate(view, **args)
            except ModelError:
                raise
            except Exception as err:  # noqa: BLE001 - reported as one line naming the property
                raise property_error(prop, model, err) from None
            check_value(prop, value)


def sampled_instances(prop: Property, model: Model) -> list[dict[str, int]]:
    """The arguments of ``prop``'s instances on ``model``, or :data:`PREFLIGHT_INSTANCES`
    of them spread from the first to the last: what the checks before a search evaluate."""
    items = prop.instances(model.p)
    most = PREFLIGHT_INSTANCES
    if len(items) <= most:
        return items
    return [items[i * (len(items) - 1) // (most - 1)] for i in range(most)]


def check_value(prop: Property, value: Any) -> None:
    """Raise a one-line error unless ``value`` is a bool (a pair of bools for liveness)."""
    if prop.is_liveness:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ModelError(
                f"{property_location(prop)}: liveness property '{prop.name}' returned "
                f"{type(value).__name__} {value!r}; return (premise, goal), two bools"
            )
        for part in value:
            if not isinstance(part, bool):
                raise not_boolean(prop, part)
    elif not isinstance(value, bool):
        raise not_boolean(prop, value)
