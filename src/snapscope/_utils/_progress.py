"""One progress-bar helper.

tqdm.auto (a widget in Jupyter, text in a terminal) when it is installed (extra ``progress``),
else the bare iterable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress"]

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
