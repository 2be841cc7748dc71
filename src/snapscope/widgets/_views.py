"""Two small anywidget views used by the linked widgets: :class:`DataTable` and :class:`Thumbnails`.

Decisions
---------
* **Views, not models.** The browser shows display strings (tables) and PNG bytes (thumbnails)
  that Python prepares; sorting, paging, stretching and selection logic live in Python, where
  the tests drive them without a browser. What a click changes is a trait (``selected``,
  ``sort``), so the state survives a page reload.
* **Their own bundles.** The front ends are TypeScript modules in ``js/src/views/``
  (``datatable.ts``, ``thumbnails.ts``, and ``linkedView.ts`` for what both do), unit-tested
  with vitest and bundled by esbuild into ``static/datatable.js`` and ``static/thumbnails.js``
  (see ``_bundles.py``): a table does not carry the image viewer's bundle.
* Thumbnails travel as binary buffers (a list of ``bytes`` traits), never base64.
* The one browser message, a thumbnail click, is ``{"kind": "click", "index": int}``; any
  other kind is a :class:`ProtocolError`, as for the ImageWidget (and the views show and throw
  any message from Python, which sends them traits only).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ._bundles import bundle
from ._protocol import MSG_CLICK, ProtocolError

__all__ = ["DataTable", "Thumbnails"]

_CSS = Path(__file__).resolve().parent / "_linked.css"


class DataTable(anywidget.AnyWidget):
    """A scrolling HTML table with sortable headers and row selection.

    Traits
    ------
    columns : list of dict
        ``{"name", "label", "numeric", "sortable", "title"}`` per column.
    rows : list of list of str
        Display strings, one list per row.
    selected : list of int
        Selected row indices (set by clicks: shift for a range, ctrl/cmd to toggle).
    highlighted : int
        One row to mark (-1: none), e.g. the light-curve point under the mouse.
    sort : dict
        ``{"column": name, "descending": bool}``, set by header clicks.
    """

    _esm = bundle("datatable")
    _css = _CSS

    columns = t.List(t.Dict()).tag(sync=True)
    rows = t.List(t.List()).tag(sync=True)
    selected = t.List(t.Int()).tag(sync=True)
    highlighted = t.Int(-1).tag(sync=True)
    sort = t.Dict().tag(sync=True)
    height = t.Unicode("240px").tag(sync=True)
    empty_text = t.Unicode("no rows").tag(sync=True)


class Thumbnails(anywidget.AnyWidget):
    """A grid of PNG thumbnails with captions; clicks call the ``on_click`` callbacks.

    Traits
    ------
    items : list of dict
        ``{"caption", "title", "error"}`` per thumbnail.
    images : list of bytes
        PNG bytes per thumbnail (``b""`` while not loaded or when it failed).
    thumb_px : int
        Display size of each thumbnail in CSS pixels.
    selected, highlighted : int
        Index of the clicked / highlighted thumbnail (-1: none).
    columns : int
        Thumbnails per row (0: as many as fit).
    """

    _esm = bundle("thumbnails")
    _css = _CSS

    items = t.List(t.Dict()).tag(sync=True)
    images = t.List(t.Bytes()).tag(sync=True)
    thumb_px = t.Int(96).tag(sync=True)
    selected = t.Int(-1).tag(sync=True)
    highlighted = t.Int(-1).tag(sync=True)
    height = t.Unicode("420px").tag(sync=True)
    columns = t.Int(0, min=0).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._click_callbacks: list[Callable[[int], Any]] = []
        self.on_msg(self._on_browser_msg)

    def on_click(self, callback: Callable[[int], Any]) -> None:
        """Call ``callback(index)`` when a thumbnail is clicked."""
        self._click_callbacks.append(callback)

    def click(self, index: int) -> None:
        """Do what a click on thumbnail ``index`` does (select it, call the callbacks)."""
        self.selected = index
        for callback in list(self._click_callbacks):
            callback(index)

    def _on_browser_msg(self, _widget: Any, content: Any, _buffers: list) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind != MSG_CLICK:
            raise ProtocolError(f"unknown message kind {kind!r}")
        self.click(int(content["index"]))
