"""Run one function over many items: serially, on a thread pool, or on a Dask cluster.

Decisions
---------
* **Threads on one machine.** Cutouts and forced photometry are mostly memory-map reads and
  small numpy/photutils calls; threads share the open files, WCSs and page cache of the images
  the user already has, which processes would have to rebuild. ``workers=None`` uses
  ``min(8, 4 × CPUs)`` threads; ``workers=1`` runs in the calling thread (for debugging).
* **Dask when given a client.** ``client.map`` runs one task per item; results come back in the
  input order whatever order they finish in, so every backend returns the same list.
* **Images cross process boundaries as their catalogue row.** An image that has opened its file
  holds an open file object, which cannot be pickled; :func:`portable` rebuilds a fresh image of
  the same class from ``image.db_row()`` with ``image_from_db_row`` (the Image API's own
  row ↔ image contract), which pickles and re-opens the file on the worker. Images without a
  file (``Numpy2DImage``) travel as they are.
* **Progress.** One bar (``snapscope._utils._progress``) per call, advanced as results arrive,
  and an optional ``callback(done, total)`` for widgets.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar

from snapscope._utils._progress import progress as progress_bar

__all__ = ["run", "portable", "default_workers"]

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """Threads used when ``workers`` is not given: ``min(8, 4 × CPUs)``."""
    return min(8, 4 * (os.cpu_count() or 1))


def portable(image: Any) -> Any:
    """Return an equivalent image that can be pickled (see the module docstring)."""
    if getattr(image, "full_filepath", None) is None:
        return image
    from snapscope.image import image_from_db_row

    return image_from_db_row(image.db_row())


def run(fn: Callable[..., R], items: Sequence[T], *, shared: dict[str, Any] | None = None,
        client: Any = None, workers: int | None = None, progress: bool = True, desc: str = "",
        callback: Callable[[int, int], Any] | None = None) -> list[R]:
    """Return ``[fn(item, **shared) for item in items]``, computed on the chosen backend.

    Parameters
    ----------
    fn : callable
        Called once per item; with a Dask client it must be picklable (a module-level function).
    items : sequence
        The inputs; with a Dask client they are sent to the workers.
    shared : dict, optional
        Keyword arguments common to every call (e.g. PSF models); with a Dask client each value
        is scattered to the workers once instead of travelling with every task.
    client : distributed.Client, optional
        Run on this Dask cluster instead of local threads.
    workers : int, optional
        Local threads (default :func:`default_workers`; 1: in the calling thread).
    progress : bool
        Show a progress bar.
    desc : str
        Label of the progress bar.
    callback : callable, optional
        ``callback(done, total)`` after each result (in the calling thread).

    Returns
    -------
    list
        One result per item, in the order of ``items``.
    """
    items = list(items)
    shared = dict(shared or {})
    total = len(items)
    results: list[Any] = [None] * total
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be a positive integer, not {workers!r}")

    def done(count: int) -> None:
        if callback is not None:
            callback(count, total)

    if client is not None:
        from snapscope._utils._optional import require

        distributed = require("distributed", extra="dask", purpose="batch work on a Dask cluster")
        remote = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
        futures = client.map(fn, items, pure=False, **remote)
        index = {f.key: i for i, f in enumerate(futures)}
        finished = distributed.as_completed(futures)
        for count, future in enumerate(progress_bar(finished, desc=desc, total=total,
                                                    enabled=progress), 1):
            results[index[future.key]] = future.result()
            done(count)
        return results
    if total <= 1 or workers == 1:
        for count, (i, item) in enumerate(progress_bar(list(enumerate(items)), desc=desc,
                                                       total=total, enabled=progress), 1):
            results[i] = fn(item, **shared)
            done(count)
        return results
    with ThreadPoolExecutor(max_workers=min(total, workers or default_workers())) as pool:
        futures = {pool.submit(fn, item, **shared): i for i, item in enumerate(items)}
        try:
            for count, future in enumerate(progress_bar(as_completed(futures), desc=desc,
                                                        total=total, enabled=progress), 1):
                results[futures[future]] = future.result()
                done(count)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results
