"""The kernel side of the tile protocol: answer tile requests of one widget, honour cancels.

Inside a kernel, requests are queued and answered by a worker thread (kernel-to-browser
messages may be sent from any thread; the tile pyramid is thread-safe), so the kernel's message
loop stays free: a ``cancel`` removes the queued requests at once, and the next request is read
while a tile is being computed. Outside a kernel (plain Python, tests) each request is answered
at once. (Answering one request per asyncio loop turn was tried first: the last requests of a
burst then waited for the next incoming message, up to the browser's 30 s timeout.)
Every failure becomes an ``{"kind": "error", "id", "error": traceback}`` reply, so the browser
never waits forever and the kernel never dies of a bad request. A request is checked once:
its fields by ``_protocol.parse_tile_request``, its level and tile against the pyramid by the
pyramid itself (``OutsideImageError``). Replies are ``_state.TileReply`` records.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from snapscope.tiles import encode_tile

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
from ._pyramids import pyramid
from ._state import Overview, TileReply

__all__ = ["TileServer", "EAGER_OVERVIEW_PIXELS"]

#: Images up to this many pixels get their overview computed by ``load_image`` (a 4088² FITS
#: file from the page cache: ~0.1 s); bigger ones only when it is already cached.
EAGER_OVERVIEW_PIXELS = 1 << 25

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
    threaded : bool, optional
        Answer from a worker thread; default: when running inside an IPython kernel.
    compress : bool, optional
        Compress tiles losslessly (``encode_tile(..., compress=True)``).
    """

    def __init__(
        self,
        send: Send,
        lookup: Callable[[str], ImageEntry | None],
        errors: ErrorLog,
        tile_size: int = 256,
        dtype: str = "float16",
        threaded: bool | None = None,
        compress: bool = True,
    ) -> None:
        self._send = send
        self._lookup = lookup
        self._errors = errors
        self.tile_size = tile_size
        self.dtype = dtype
        self.compress = compress
        self._pending: OrderedDict[int, TileRequest] = OrderedDict()
        self.threaded = _in_kernel() if threaded is None else threaded
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
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
        with self._wake:
            self._pending[req.id if req.id is not None else self._local_id()] = req
        self._schedule()

    def cancel(self, content: dict[str, Any]) -> None:
        """Drop the queued requests named in a ``cancel`` message."""
        ids = parse_cancel(content)
        with self._wake:
            for rid in ids:
                if self._pending.pop(rid, None) is not None:
                    self.stats["cancelled"] += 1

    def overview_state(self, entry: ImageEntry) -> Overview | None:
        """The overview tile of an image as a trait value (reply header plus ``"buffer"``).

        Synced with the widget state, it reaches a view when the view is created, with no
        request round trip and even while the kernel is busy. None when computing it would
        make ``load_image`` slow (a big image whose overview is not cached): the browser
        then asks for it like any tile.
        """
        pyr = self.pyramid(entry)
        ny, nx = pyr.shape
        if not pyr.overview_ready and ny * nx > EAGER_OVERVIEW_PIXELS:
            return None
        fields, payload = self.encoded(TileRequest(None, entry.key, PLANE_DATA, pyr.top_level, 0, 0))
        return Overview(**fields, buffer=payload)

    @property
    def pending(self) -> int:
        """Number of queued, unanswered requests."""
        return len(self._pending)

    # ---------------------------------------------------------------- work
    def _local_id(self) -> int:
        self._next_local_id -= 1
        return self._next_local_id

    def _schedule(self) -> None:
        if not self.threaded:
            self.drain()
            return
        with self._wake:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._work, name="snapscope-tiles", daemon=True
                )
                self._worker.start()
            self._wake.notify()

    def _next(self, wait: float) -> TileRequest | None:
        with self._wake:
            if not self._pending and not self._closed:
                self._wake.wait(wait)
            if self._closed or not self._pending:
                return None
            return self._pending.popitem(last=False)[1]

    def _work(self) -> None:
        # Exits after 30 s without requests; _schedule starts a new worker when needed.
        while (req := self._next(30.0)) is not None:
            self.answer(req)

    def drain(self) -> None:
        """Answer every queued request now, in this thread."""
        while (req := self._next(0.0)) is not None:
            self.answer(req)

    def close(self) -> None:
        """Drop queued requests and stop the worker thread."""
        with self._wake:
            self._closed = True
            self._pending.clear()
            self._wake.notify_all()

    def encoded(self, req: TileRequest) -> tuple[dict[str, Any], bytes]:
        """Compute and encode one tile: the fields of its ``TileReply`` and its one buffer.

        Raises
        ------
        ProtocolError
            For an unknown image key.
        snapscope.exceptions.OutsideImageError
            For a level or tile outside the image's pyramid.
        """
        entry = self._lookup(req.key)
        if entry is None:
            raise ProtocolError(f"no image with key {req.key!r} is loaded in this widget")
        pyr = self.pyramid(entry, req.plane)
        return self._reply(req, pyr.tile(req.level, req.tx, req.ty))

    def _reply(self, req: TileRequest, values: Any) -> tuple[dict[str, Any], bytes]:
        dtype = self.dtype if req.plane == PLANE_DATA else "float16"
        header, payload = encode_tile(values, dtype, compress=self.compress)
        address = {"key": req.key, "plane": req.plane, "level": req.level, "tx": req.tx, "ty": req.ty}
        return {**header, **address, "kind": MSG_TILE, "id": req.id}, payload

    def answer(self, req: TileRequest) -> None:
        """Compute, encode and send one tile, or an error reply.

        The overview of a big image whose exact overview is not cached yet (reading a 20k²
        mosaic from disk takes seconds) is answered twice: first a preview (one sampled pixel
        per block, ``"preview": true``, id None; ~0.2 s from a cold disk), then the exact tile,
        which the browser puts in its place.
        """
        try:
            preview = self._preview(req)
            if preview is not None:
                self._deliver(*preview)
            fields, payload = self.encoded(req)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the browser
            self.error(req.id, exc)
            return
        self._deliver(fields, payload)

    def _preview(self, req: TileRequest) -> tuple[dict[str, Any], bytes] | None:
        """The preview reply for a request of a big image's uncached overview, else None."""
        entry = self._lookup(req.key)
        if entry is None or req.plane != PLANE_DATA:
            return None
        pyr = self.pyramid(entry, req.plane)
        ny, nx = pyr.shape
        if ((req.level, req.tx, req.ty) != (pyr.top_level, 0, 0) or pyr.overview_ready
                or ny * nx <= EAGER_OVERVIEW_PIXELS):
            return None
        fields, payload = self._reply(TileRequest(None, req.key, req.plane, req.level, 0, 0),
                                      pyr.preview())
        return {**fields, "preview": True}, payload

    def _deliver(self, fields: dict[str, Any], payload: bytes) -> None:
        self._send(TileReply(**fields).to_json(), [payload])
        self.stats["sent"] += 1
        self.stats["bytes"] += len(payload)

    def error(self, rid: int | None, exc: BaseException) -> None:
        """Record ``exc`` and send an error reply for request ``rid``."""
        text = self._errors.record(exc, "tile request")
        self.stats["errors"] += 1
        self._send({"kind": MSG_ERROR, "id": rid, "error": text}, [])


def _in_kernel() -> bool:
    """Return True inside an IPython kernel (where requests go to the worker thread).

    A kernel has imported IPython already; without it in ``sys.modules`` there is no kernel.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
