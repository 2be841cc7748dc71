"""Run one function over many items: serially, on a thread pool, or on a Dask cluster.

Decisions
---------
* **One thread by default, threads on request.** Cutouts and forced photometry are small
  numpy/photutils/astropy calls that hold the GIL most of the time, and the disk reads are
  already overlapped by ``madvise`` prefetching (``PixelSource.prefetch``). Measured on
  100 images of 4088² (2 cores, local disk): forced photometry on first open 2.1 s in the
  calling thread, 2.95 s with 2 threads, 3.1 s with 8; cold cutouts 1.33 s vs 1.45 s with 8
  (threads queue on the GIL). So ``workers=None`` runs in the calling thread;
  ``workers=N`` uses N threads, which share the open files, WCSs and page cache of the
  images the user already has and pay off when opening a file waits on a slow (network)
  filesystem.
* **Dask when given a client.** ``client.map`` runs one task per item; results come back in the
  input order whatever order they finish in, so every backend returns the same list. Results
  are gathered in the background as tasks finish (``as_completed(with_results=True)``: no
  round trip per result, 1000 tasks would pay ~1000 of them) and each task is released as soon
  as its result has arrived, so a worker never keeps a second copy of what the client already
  holds (with 1000 positions × 100 images the results are ~10⁵ rows). If a task fails, the
  error is raised and the remaining tasks are released (cancelled).
* **Images cross process boundaries as their catalogue row.** An image that has opened its file
  holds an open file object, which cannot be pickled; :func:`portable` sends ``image.db_row()``
  instead, and the worker builds the image with ``image_from_db_row`` (the Image API's own
  row ↔ image contract). Each worker keeps the last 512 images it built (:func:`resolve`), so a
  second batch call on the same images (a new position, new parameters) reuses them; the
  worker's file cache (``snapscope.image._fitscache``) already spares it parsing a file's
  headers and WCS twice (~10 ms for an OU2024 header with SIP, most of the cost of a cutout),
  the kept images spare their own header copies too. Images without a file
  (``Numpy2DImage``) travel as they are.
* **Progress.** One bar (``snapscope._utils._progress``) per call, advanced as results arrive,
  and an optional ``callback(done, total)`` for widgets.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar

from snapscope._utils._progress import progress as progress_bar

__all__ = ["run", "portable", "resolve", "Shipped", "default_workers"]

T = TypeVar("T")
R = TypeVar("R")
_OPENED_MAX = 512
_opened: OrderedDict[Shipped, Any] = OrderedDict()
_opened_lock = threading.Lock()


@dataclass(frozen=True)
class Shipped:
    """An image on its way to a Dask worker: its catalogue row (``Image.db_row()`` items)."""

    row: tuple[tuple[str, Any], ...]


def default_workers() -> int:
    """Threads used when ``workers`` is not given: 1, the calling thread (see the module notes)."""
    return 1


def portable(image: Any) -> Any:
    """Return what stands for ``image`` on a worker: a :class:`Shipped` row, or the image."""
    if getattr(image, "full_filepath", None) is None:
        return image
    return Shipped(tuple(sorted(image.db_row().items())))


def resolve(item: Any) -> Any:
    """Return the image a :func:`portable` item stands for (kept per process, LRU of 512)."""
    if not isinstance(item, Shipped):
        return item
    with _opened_lock:
        image = _opened.get(item)
        if image is not None:
            _opened.move_to_end(item)
            return image
    from snapscope.image import image_from_db_row

    image = image_from_db_row(dict(item.row))
    with _opened_lock:
        image = _opened.setdefault(item, image)
        while len(_opened) > _OPENED_MAX:
            _opened.popitem(last=False)
    return image


def _call(item: Any, _fn: Callable[..., Any], **shared: Any) -> Any:
    """What a Dask task runs: ``_fn(resolve(item), **shared)``."""
    return _fn(resolve(item), **shared)


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
        Local threads (default :func:`default_workers`: 1, in the calling thread).
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
        # hash=False: a content-hashed key shared with an earlier call can be released by that
        # call's clean-up while this one still needs it ("lost dependencies")
        remote = {k: client.scatter([v], broadcast=True, hash=False)[0] for k, v in shared.items()}
        futures = client.map(_call, items, _fn=fn, pure=False, **remote)
        index = {f.key: i for i, f in enumerate(futures)}
        finished = distributed.as_completed(futures, with_results=True)
        del futures  # from here on a result is released on its worker once it has arrived
        for count, (future, result) in enumerate(progress_bar(finished, desc=desc, total=total,
                                                              enabled=progress), 1):
            results[index.pop(future.key)] = result
            future.release()
            done(count)
        return results
    workers = workers or default_workers()
    if total <= 1 or workers == 1:
        for count, (i, item) in enumerate(progress_bar(list(enumerate(items)), desc=desc,
                                                       total=total, enabled=progress), 1):
            results[i] = fn(item, **shared)
            done(count)
        return results
    with ThreadPoolExecutor(max_workers=min(total, workers)) as pool:
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
