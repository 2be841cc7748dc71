"""The kernel side of the tile protocol: answer tile requests of one widget, honour cancels.

Requests are queued and answered one per event-loop turn when the kernel runs an asyncio loop
(ipykernel does), so a ``cancel`` that arrives while tiles are being computed removes the
requests not answered yet; without a running loop (plain Python, tests) each request is answered
at once. Every failure becomes an ``{"kind": "error", "id", "error": traceback}`` reply, so the
browser never waits forever and the kernel never dies of a bad request.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ._errors import ErrorLog
from ._inputs import ImageEntry
from ._protocol import (
    MSG_ERROR,
    MSG_TILE,
    PLANE_DATA,
    ProtocolError,
    TileRequest,
    parse_cancel,
    parse_tile_request,
)
from ._pyramids import encode, pyramid

__all__ = ["TileServer"]

Send = Callable[[dict[str, Any], list[bytes]], None]


class TileServer:
    """Queue, cancel and answer the tile requests of one widget.

    Parameters
    ----------
    send : callable
        ``send(content, buffers)``, the widget's custom-message sender.
    lookup : callable
        ``lookup(key) -> ImageEntry | None``: the images this widget has loaded.
    errors : ErrorLog
        Where failures are recorded.
    tile_size : int
        Tile edge in pixels.
    dtype : str
        Encoding of the values sent (``encode_tile``'s ``dtype``).
    """

    def __init__(
        self,
        send: Send,
        lookup: Callable[[str], ImageEntry | None],
        errors: ErrorLog,
        tile_size: int = 256,
        dtype: str = "float16",
    ) -> None:
        self._send = send
        self._lookup = lookup
        self._errors = errors
        self.tile_size = tile_size
        self.dtype = dtype
        self._pending: OrderedDict[int, TileRequest] = OrderedDict()
        self._scheduled = False
        self._next_local_id = -1
        #: Counters: tiles sent, requests cancelled, errors replied.
        self.stats = {"sent": 0, "cancelled": 0, "errors": 0, "bytes": 0}

    def pyramid(self, entry: ImageEntry, plane: str = PLANE_DATA):
        """Return the (cached) tile pyramid of one plane of an image."""
        return pyramid(entry, plane, self.tile_size)

    # ---------------------------------------------------------------- messages
    def request(self, content: dict[str, Any]) -> None:
        """Queue a ``tile`` message (a malformed one gets an error reply at once)."""
        try:
            req = parse_tile_request(content)
        except ProtocolError as exc:
            self.error(content.get("id") if isinstance(content.get("id"), int) else None, exc)
            return
        self._pending[req.id if req.id is not None else self._local_id()] = req
        self._schedule()

    def cancel(self, content: dict[str, Any]) -> None:
        """Drop the queued requests named in a ``cancel`` message."""
        for rid in parse_cancel(content):
            if self._pending.pop(rid, None) is not None:
                self.stats["cancelled"] += 1

    def push(self, entry: ImageEntry, plane: str = PLANE_DATA) -> None:
        """Send the overview (top-level) tile of an image without being asked."""
        top = self.pyramid(entry, plane).top_level
        self.answer(TileRequest(None, entry.key, plane, top, 0, 0))

    @property
    def pending(self) -> int:
        """Number of queued, unanswered requests."""
        return len(self._pending)

    # ---------------------------------------------------------------- work
    def _local_id(self) -> int:
        self._next_local_id -= 1
        return self._next_local_id

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drain()
            return
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._step)

    def _step(self) -> None:
        self._scheduled = False
        if self._pending:
            _, req = self._pending.popitem(last=False)
            self.answer(req)
        if self._pending:
            self._schedule()

    def drain(self) -> None:
        """Answer every queued request now."""
        while self._pending:
            _, req = self._pending.popitem(last=False)
            self.answer(req)

    def answer(self, req: TileRequest) -> None:
        """Compute, encode and send one tile, or an error reply."""
        try:
            entry = self._lookup(req.key)
            if entry is None:
                raise ProtocolError(f"no image with key {req.key!r} is loaded in this widget")
            pyr = self.pyramid(entry, req.plane)
            if req.level >= pyr.n_levels:
                raise ProtocolError(
                    f"level {req.level} does not exist (levels 0..{pyr.n_levels - 1})"
                )
            h, w = pyr.level_shape(req.level)
            nty, ntx = -(-h // self.tile_size), -(-w // self.tile_size)
            if req.tx >= ntx or req.ty >= nty:
                raise ProtocolError(
                    f"tile ({req.tx}, {req.ty}) is outside level {req.level} ({ntx} × {nty} tiles)"
                )
            values = pyr.tile(req.level, req.tx, req.ty)
            header, payload = encode(values, self.dtype if req.plane == PLANE_DATA else "float16")
        except Exception as exc:  # noqa: BLE001 - every failure must reach the browser
            self.error(req.id, exc)
            return
        content = {
            **header,
            "kind": MSG_TILE,
            "id": req.id,
            "key": req.key,
            "plane": req.plane,
            "level": req.level,
            "tx": req.tx,
            "ty": req.ty,
        }
        self._send(content, [payload])
        self.stats["sent"] += 1
        self.stats["bytes"] += len(payload)

    def error(self, rid: int | None, exc: BaseException) -> None:
        """Record ``exc`` and send an error reply for request ``rid``."""
        text = self._errors.record(exc, "tile request")
        self.stats["errors"] += 1
        self._send({"kind": MSG_ERROR, "id": rid, "error": text}, [])
