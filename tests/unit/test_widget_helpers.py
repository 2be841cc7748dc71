"""Shared helper of the widget tests: an ImageWidget that records what it sends."""

from __future__ import annotations

from snapscope.widgets import ImageWidget

__all__ = ["ImageWidget", "RecordingWidget"]


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
