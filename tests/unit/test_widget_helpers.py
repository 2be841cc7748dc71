"""Shared helper of the widget tests: an ImageWidget that records what it sends."""

from __future__ import annotations

from snapscope.widgets import ImageWidget

__all__ = ["ImageWidget", "RecordingWidget", "tile_values"]


def tile_values(content, payload):
    """Decode a tile reply as the browser does (inflate, unshuffle, dtype, scale)."""
    import zlib

    import numpy as np

    raw = bytes(payload)
    if content.get("compression") == "zlib":
        raw = zlib.decompress(raw)
    size = np.dtype(content["dtype"]).itemsize
    if content.get("shuffle"):
        raw = np.frombuffer(raw, np.uint8).reshape(size, -1).T.tobytes()
    values = np.frombuffer(raw, "<" + np.dtype(content["dtype"]).str[1:]).astype(np.float32)
    return values.reshape(content["shape"]) * content.get("scale", 1.0)


class RecordingWidget(ImageWidget):
    """An ImageWidget that keeps the custom messages it sends (no kernel needed)."""

    def __init__(self, **kwargs):
        self.sent = []
        super().__init__(**kwargs)

    def send(self, content, buffers=None):
        self.sent.append((content, list(buffers or [])))

    def browser(self, content):
        """Deliver a message as if it came from the browser."""
        self._on_browser_msg(self, content, [])

    def replies(self, kind=None):
        return [(c, b) for c, b in self.sent if kind is None or c.get("kind") == kind]
