"""Typed widget state: records that check and serialise themselves, and the traits holding them.

A *record* is a frozen dataclass whose fields are the fields of one TypeScript interface of the
front end (its ``ts_interface``; the records themselves live in ``_state.py``). Building one
checks every field against its annotation, so a wrong value fails where it is made, naming the
record and the field, and never reaches the browser:

* ``float`` takes any real number but a bool; ``int`` and ``str`` and ``bool`` take their own
  type; ``bytes`` also takes a ``memoryview`` (how binary buffers arrive from the browser);
* ``tuple[T, ...]`` and ``tuple[A, B]`` take lists (JSON arrays) and become tuples, so a record
  never shares a mutable list; ``dict[str, T]`` takes any mapping;
* ``Literal[...]`` takes one of its values; ``A | B`` the first member that accepts the value;
* a record type takes that record or a mapping of its fields (JSON from the browser, or the
  plain dicts that ``wcs_grid``, ``stretch_spec`` and ``cuts_spec`` return).

On the wire a record is a JSON object (``to_json``; bytes stay bytes, which ipywidgets sends as
binary buffers). A field whose default is None is optional (TypeScript ``name?: T``) and left
out while None; any other ``T | None`` is sent as null (TypeScript ``name: T | null``).

The trait types (as lonboard's ``traits/``) tag themselves ``sync=True`` with their
``to_json``, and validate what Python sets and what the browser sends alike, so a browser value
of the wrong shape is refused by the trait (a :class:`traitlets.TraitError`), not by the code
that reads it later. ``tests/unit/test_widget_state.py`` checks every record and every synced
trait of the widgets against the interfaces in ``js/src/model.ts``, field by field.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import traitlets as t

__all__ = ["Record", "record", "RecordTrait", "RecordDict", "RecordList", "to_json"]

#: The decorator of every record class: a frozen, keyword-only dataclass.
record = dataclasses.dataclass(frozen=True, kw_only=True)


@record
class Record:
    """Base of the typed state records (frozen, keyword-only dataclasses).

    Subclasses set ``ts_interface``, the name of their TypeScript twin.
    """

    ts_interface: ClassVar[str] = ""

    def __post_init__(self) -> None:
        name = type(self).__name__
        for field, hint in _hints(type(self)).items():
            value = _coerce(getattr(self, field), hint, f"{name}.{field}")
            object.__setattr__(self, field, value)

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (bytes kept for the binary buffers)."""
        return {
            f.name: _json(value)
            for f in dataclasses.fields(self)
            if (value := getattr(self, f.name)) is not None or f.default is not None
        }

    @classmethod
    def from_json(cls, value: Any) -> Record:
        """The record of a JSON object (or the record itself).

        Raises
        ------
        TypeError
            For anything but a mapping with exactly this record's fields, or a field of the
            wrong type; ValueError for a value outside a ``Literal``.
        """
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(f"{cls.__name__} must be a mapping of its fields, not {value!r}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(value) - set(names))
        missing = [
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in value and f.default is dataclasses.MISSING
        ]
        if unknown or missing:
            raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
        return cls(**value)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the annotation ``hint`` (and normalised, see the docstring)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        errors = []
        for member in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, member, where)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise TypeError(f"{where}: {value!r} is none of {hint}: {'; '.join(errors)}")
    if origin is Literal:
        if value in args and type(value) is type(args[args.index(value)]):
            return value
        raise ValueError(f"{where} must be one of {args}, not {value!r}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise TypeError(f"{where} must be a list, not {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise TypeError(f"{where} must have {len(args)} items, not {value!r}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise TypeError(f"{where} must be a mapping, not {value!r}")
        return {_coerce(k, args[0], where): _coerce(v, args[1], f"{where}[{k!r}]")
                for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Record):
        try:
            return hint.from_json(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where}: {exc}") from None
    return _scalar(value, hint, where)


def _scalar(value: Any, hint: type, where: str) -> Any:
    if hint is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if hint is bytes and isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if hint in (str, bool) and isinstance(value, hint):
        return value
    raise TypeError(f"{where} must be {hint.__name__}, not {value!r}")


def _json(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def to_json(value: Any, _widget: Any = None) -> Any:
    """A trait value on the wire: records as JSON objects (the ``to_json`` of the traits)."""
    return _json(value)


class RecordTrait(t.TraitType):
    """A trait holding one record (a mapping of its fields is turned into the record).

    Parameters
    ----------
    record : type of Record
    allow_none : bool, optional
    **kwargs
        Passed to :class:`traitlets.TraitType`.
    """

    def __init__(self, record: type[Record], allow_none: bool = False, **kwargs: Any) -> None:
        self.record = record
        kwargs.setdefault("default_value", None if allow_none else t.Undefined)
        super().__init__(allow_none=allow_none, **kwargs)
        self.tag(sync=True, to_json=to_json)

    def validate(self, obj: Any, value: Any) -> Record | None:
        if value is None and self.allow_none:
            return None
        try:
            return self.record.from_json(value)
        except (TypeError, ValueError) as exc:
            raise t.TraitError(f"trait {self.name!r} of {type(obj).__name__}: {exc}") from exc


class RecordDict(t.Dict):
    """A trait holding ``{str: record}`` (e.g. one record per loaded image)."""

    def __init__(self, record: type[Record], **kwargs: Any) -> None:
        self.record = record
        super().__init__(value_trait=RecordTrait(record), key_trait=t.Unicode(), **kwargs)
        self.tag(sync=True, to_json=to_json)


class RecordList(t.List):
    """A trait holding a list of records."""

    def __init__(self, record: type[Record], **kwargs: Any) -> None:
        self.record = record
        super().__init__(RecordTrait(record), **kwargs)
        self.tag(sync=True, to_json=to_json)
