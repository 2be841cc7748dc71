"""Exceptions raised by snapscope.

Every class subclasses a builtin, so ``except ValueError`` (etc.) keeps working for code
written against snappl, and every class also subclasses :class:`SnapscopeError` so callers
can catch everything of ours at once.
"""

__all__ = [
    "SnapscopeError",
    "ImageFileError",
    "ImageFileNotFoundError",
    "HDUError",
    "NoWCSError",
    "DatabaseNeededError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "DatabaseInterruptedError",
    "UnknownFilterError",
    "OutsideImageError",
]


class SnapscopeError(Exception):
    """Base class of every snapscope error."""


class ImageFileError(SnapscopeError, OSError):
    """An image file is missing, unreadable or not the format it should be."""


class ImageFileNotFoundError(ImageFileError, FileNotFoundError):
    """An image file does not exist."""


class HDUError(SnapscopeError, ValueError):
    """A FITS file has no such HDU, or the HDU holds no image."""


class NoWCSError(SnapscopeError, ValueError):
    """An image has no (usable) world coordinate system."""


class DatabaseNeededError(SnapscopeError, RuntimeError):
    """An operation needs the image catalogue, but none is configured or reachable."""


class DatabaseError(SnapscopeError, RuntimeError):
    """The image catalogue refused an operation (nothing was written)."""


class DatabaseUnavailableError(DatabaseError, ConnectionError):
    """The PostgreSQL server cannot be reached."""


class DatabaseInterruptedError(DatabaseUnavailableError):
    """The connection was lost while a call ran (a server restart, a network failure).

    The next call reconnects. A transaction it interrupted is all or nothing: the server rolls
    an unfinished one back, so it left nothing behind unless the loss came as it committed.
    """


class UnknownFilterError(SnapscopeError, ValueError):
    """A search was given a filter key that is not a column (the message lists the allowed ones)."""


class OutsideImageError(SnapscopeError, ValueError):
    """A position lies outside every image (or outside the one image asked about)."""
