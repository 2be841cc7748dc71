"""One progress-bar helper.

tqdm.auto (a widget in Jupyter, text in a terminal) when it is installed (extra ``progress``),
else the bare iterable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress", "counter"]

T = TypeVar("T")


def progress(
    iterable: Iterable[T], *, desc: str = "", total: int | None = None, enabled: bool = True
) -> Iterator[T] | Iterable[T]:
    """Wrap ``iterable`` in a progress bar.

    Parameters
    ----------
    iterable : iterable
        What to iterate over.
    desc : str
        Label shown beside the bar.
    total : int, optional
        Number of items, when ``len(iterable)`` does not work.
    enabled : bool
        False returns ``iterable`` unchanged (for batch jobs and tests).
    """
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False)


class _NoBar:
    """What :func:`counter` returns when no bar is shown."""

    def update(self, n: int = 1) -> None:  # noqa: D102
        pass

    def close(self) -> None:  # noqa: D102
        pass


def counter(*, total: int | None = None, desc: str = "", unit: str = "it",
            enabled: bool = True) -> Any:
    """A progress bar advanced by hand: ``bar.update(n)``, then ``bar.close()``.

    For work counted in units other than the items of a loop (rows saved by chunks).

    Parameters
    ----------
    total : int, optional
        Expected count (a bar without an end when unknown).
    desc, unit : str
        Label beside the bar, name of what is counted.
    enabled : bool
        False gives an object whose methods do nothing.
    """
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)
    return _NoBar()
