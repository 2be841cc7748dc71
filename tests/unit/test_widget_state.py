"""The typed widget state equals its TypeScript twin, and checks what it is given.

Every record of ``snapscope.widgets._state`` is compared with the interface of the same name in
``js/src/model.ts`` (and the files it imports types from), field by field: name, optionality
(``name?:`` is a field whose default is None) and type; every interface of ``model.ts`` must have
a record, and the ``Traits`` interface must list exactly ImageWidget's synced traits, typed as
their trait types say. A field added, removed or retyped on either side fails here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
import traitlets as t
from test_widget_helpers import RecordingWidget

from snapscope.widgets import ImageWidget, _state
from snapscope.widgets._records import Record, RecordDict, RecordList, RecordTrait, record

JS = Path(__file__).resolve().parents[2] / "js" / "src"
TS_FILES = ("model.ts", "protocol.ts", "tiles/decode.ts", "ui/cuts.ts")

# ------------------------------------------------------------------------ TypeScript side


def _split_union(text: str) -> list[str]:
    """Members of a TypeScript union at nesting depth 0."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "<[{(" and 1 or (ch in ">]})" and -1 or 0)
        if ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _fields(body: str) -> dict[str, tuple[bool, str]]:
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", body, flags=re.S)
    out = {}
    for item in re.split(r";", body):
        if item.strip():
            name, optional, kind = re.fullmatch(r"\s*(\w+)(\??):\s*(.+?)\s*", item, re.S).groups()
            out[name] = (optional == "?", kind)
    return out


class TypeScript:
    """The interfaces and type aliases of the front end's model files."""

    def __init__(self, texts: list[str]) -> None:
        text = "\n".join(texts)
        self.consts = dict(re.findall(r'export const (\w+) = ("[^"]*");', text))
        self.aliases = {
            name: body.strip()
            for name, body in re.findall(r"export type (\w+) =\s*(.+?);$", text, re.S | re.M)
        }
        self.interfaces = {
            name: ([p.strip() for p in (parents or "").split(",") if p.strip()], _fields(body))
            for name, parents, body in re.findall(
                r"export interface (\w+)(?: extends ([\w, ]+))? \{(.*?)\n\}", text, re.S
            )
        }

    def normal(self, kind: str) -> str:
        """A type with constants and simple aliases expanded, union members sorted."""
        kind = re.sub(r"typeof (\w+)", lambda m: self.consts[m.group(1)], kind)
        members = _split_union(kind)
        if len(members) > 1:
            return " | ".join(sorted(self.normal(m) for m in members))
        kind = re.sub(r"\s+", " ", kind.strip())
        alias = self.aliases.get(kind)
        return self.normal(alias) if alias and not alias.lstrip("| ").startswith("{") else kind

    def shape(self, name: str) -> list[dict[str, tuple[bool, str]]]:
        """Field sets of an interface (one) or of a union alias of object types (one each)."""
        if name in self.interfaces:
            parents, own = self.interfaces[name]
            merged: dict[str, tuple[bool, str]] = {}
            for parent in parents:
                (fields,) = self.shape(parent)
                merged.update(fields)
            merged.update(own)
            return [{k: (opt, self.normal(v)) for k, (opt, v) in merged.items()}]
        members = [re.fullmatch(r"\{(.*)\}", m.strip(), re.S) for m in _split_union(self.aliases[name])]
        return [{k: (opt, self.normal(v)) for k, (opt, v) in _fields(m.group(1)).items()}
                for m in members]


@pytest.fixture(scope="module")
def ts() -> TypeScript:
    return TypeScript([(JS / name).read_text() for name in TS_FILES])


# ------------------------------------------------------------------------ Python side


def ts_type(hint) -> str:
    """The TypeScript spelling of a record field's annotation (see ``_records.py``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return " | ".join(sorted({ts_type(a) for a in args}))
    if origin is Literal:
        return " | ".join(sorted(json.dumps(a) for a in args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"{ts_type(args[0])}[]"
    if origin is tuple:
        return "[" + ", ".join(ts_type(a) for a in args) + "]"
    if origin is dict:
        return f"Record<string, {ts_type(args[1])}>"
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.ts_interface
    names = {float: "number", int: "number", str: "string", bool: "boolean", bytes: "DataView"}
    return {type(None): "null", **names}[hint]


def record_fields(cls: type[Record]) -> dict[str, tuple[bool, str]]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        optional = f.default is None
        kind = ts_type(hints[f.name])
        if optional:  # ``name?: T``: the None is the field's absence
            kind = " | ".join(m for m in kind.split(" | ") if m != "null")
        out[f.name] = (optional, kind)
    return out


def trait_type(trait: t.TraitType) -> str:
    """The TypeScript spelling of a synced trait."""
    null = " | null" if trait.allow_none else ""
    if isinstance(trait, RecordDict):
        return f"Record<string, {trait.record.ts_interface}>"
    if isinstance(trait, RecordList):
        return f"{trait.record.ts_interface}[]"
    if isinstance(trait, RecordTrait):
        return " | ".join(sorted({trait.record.ts_interface, *(["null"] if null else [])}))
    if isinstance(trait, t.Enum):
        return " | ".join(sorted(json.dumps(v) for v in trait.values))
    if isinstance(trait, t.Tuple):
        return "[" + ", ".join(trait_type(e) for e in trait._traits) + "]"
    if isinstance(trait, t.Dict):
        return f"Record<string, {trait_type(trait._value_trait)}>"
    names = {t.Unicode: "string", t.Bool: "boolean", t.Int: "number", t.Float: "number",
             t.Bytes: "DataView"}
    return next(v for k, v in names.items() if isinstance(trait, k))


def records() -> list[type[Record]]:
    return [c for c in vars(_state).values()
            if isinstance(c, type) and issubclass(c, Record) and c is not Record]


def mismatches(ts: TypeScript, classes: list[type[Record]]) -> list[str]:
    """How the records differ from their TypeScript twins (empty: they agree)."""
    out = []
    by_name: dict[str, list[type[Record]]] = {}
    for cls in classes:
        by_name.setdefault(cls.ts_interface, []).append(cls)
    for name, group in by_name.items():
        if name not in ts.interfaces and name not in ts.aliases:
            out.append(f"{name}: no such TypeScript type ({[c.__name__ for c in group]})")
            continue
        want = sorted(map(sorted, (f.items() for f in ts.shape(name))))
        have = sorted(map(sorted, (record_fields(c).items() for c in group)))
        if want != have:
            out.append(f"{name}: TypeScript {want} != Python {have}")
    return out


def synced_traits(widget_class: type) -> dict[str, t.TraitType]:
    """The synced traits that snapscope (not ipywidgets or anywidget) defines."""
    ours = {name for cls in widget_class.__mro__ if cls.__module__.startswith("snapscope")
            for name, value in vars(cls).items() if isinstance(value, t.TraitType)}
    return {k: v for k, v in widget_class.class_traits(sync=True).items() if k in ours}


# ------------------------------------------------------------------------ tests


def test_every_record_equals_its_typescript_interface(ts):
    assert mismatches(ts, records()) == []


def test_every_model_ts_interface_has_a_record(ts):
    model = TypeScript([(JS / "model.ts").read_text()])
    covered = {c.ts_interface for c in records()} | {"Traits"}
    assert set(model.interfaces) <= covered


def test_traits_interface_lists_imagewidgets_synced_traits(ts):
    (fields,) = ts.shape("Traits")
    python = {name: (False, trait_type(trait)) for name, trait in synced_traits(ImageWidget).items()}
    assert python == fields


def test_a_field_added_on_either_side_is_found(ts):
    texts = [(JS / name).read_text() for name in TS_FILES]
    texts[0] = texts[0].replace("  fov: number;\n", "  fov: number;\n  zoom: number;\n")
    assert any(m.startswith("ViewTrait:") for m in mismatches(TypeScript(texts), records()))

    @record
    class ViewPlus(_state.View):
        ts_interface = "ViewTrait"
        rot: float | None = None

    classes = [ViewPlus if c is _state.View else c for c in records()]
    assert [m.split(":")[0] for m in mismatches(ts, classes)] == ["ViewTrait"]
    texts = [(JS / name).read_text() for name in TS_FILES]
    texts[0] = texts[0].replace("  has_mask: boolean;", "  has_mask: boolean | null;")
    assert any(m.startswith("ImageTrait:") for m in mismatches(TypeScript(texts), records()))


def test_records_check_their_fields_when_made():
    with pytest.raises(TypeError, match=r"View\.x must be float, not '1'"):
        _state.View(key="k", x="1", y=0.0, fov=1.0)
    with pytest.raises(ValueError, match=r"Link\.mode must be one of"):
        _state.Link(group="g", mode="sky", display=True)
    with pytest.raises(TypeError, match=r"View: unknown fields \['zoom'\]"):
        _state.View.from_json({"key": "k", "x": 0, "y": 0, "fov": 1, "zoom": 2})
    # JSON numbers become floats, arrays tuples, buffers (memoryview from the browser) bytes
    q = _state.Quantiles.from_json({"p": [0, 50, 100], "q": memoryview(b"\0" * 24)})
    assert q.p == (0.0, 50.0, 100.0) and type(q.q) is bytes


def test_optional_fields_are_left_out_while_none():
    reply = _state.TileReply(kind="tile", id=None, key="k", plane="data", level=0, tx=0, ty=0,
                             dtype="float16", shape=(2, 2), scale=1.0)
    assert "preview" not in reply.to_json() and reply.to_json()["id"] is None


def test_a_browser_value_of_the_wrong_shape_is_refused_by_the_trait():
    w = RecordingWidget()
    w.load_image(np.zeros((20, 30), np.float32))
    before = w._view
    with pytest.raises(t.TraitError, match=r"'_view'.*View\.fov must be float"):
        w.set_state({"_view": {"key": w._displayed, "x": 1.0, "y": 2.0, "fov": "wide"}})
    assert w._view == before


@pytest.mark.parametrize("name", ["datatable", "thumbnails"])
def test_linked_view_traits_interface_names_the_widgets_synced_traits(name):
    from snapscope.widgets._views import DataTable, Thumbnails

    widget = {"datatable": DataTable, "thumbnails": Thumbnails}[name]
    views = TypeScript([(JS / "views" / f"{name}.ts").read_text()])
    (fields,) = views.shape(f"{widget.__name__}Traits")
    assert set(fields) == set(synced_traits(widget))
