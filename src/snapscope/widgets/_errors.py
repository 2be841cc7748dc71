"""Errors of the widgets and how they are shown.

Tile handlers and click callbacks run inside the kernel's message loop, where an uncaught
exception would only reach the kernel log (ipywidgets runs ``on_msg`` callbacks without isolating
them, astrowidgets#206). Here every such exception is caught, kept in an :class:`ErrorLog` that
``ImageWidget.errors`` exposes, logged with :mod:`logging`, and its last line is shown in the
widget's status bar (trait ``_last_error``).
"""

from __future__ import annotations

import logging
import traceback
from collections import deque

__all__ = ["ErrorLog", "format_exception"]

logger = logging.getLogger("snapscope.widgets")


def format_exception(exc: BaseException) -> str:
    """Return the full traceback of ``exc`` as one string."""
    return "".join(traceback.format_exception(exc))


class ErrorLog:
    """The last few tracebacks of errors raised while handling browser messages.

    Parameters
    ----------
    maxlen : int, optional
        How many tracebacks to keep.
    """

    def __init__(self, maxlen: int = 20) -> None:
        self._entries: deque[str] = deque(maxlen=maxlen)

    def record(self, exc: BaseException, context: str) -> str:
        """Keep and log the traceback of ``exc``; return it.

        Parameters
        ----------
        exc : BaseException
            The exception that was caught.
        context : str
            What was being done, e.g. ``"tile request"``; logged with the traceback.
        """
        text = format_exception(exc)
        self._entries.append(text)
        logger.error("snapscope widget: error in %s\n%s", context, text)
        return text

    def __iter__(self):
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget all recorded errors."""
        self._entries.clear()
