"""Survey-scale figures of ``benchmarks/batch.py --images N`` (issue 12, batch work).

* **One position × N images**: forced photometry (aperture flux with its error, the default
  parameters) and 31² cutouts, first open (no file opened by the process: cache emptied) on a
  cold page cache, at N/100, N/10 and N images: time, time per image (it must stay flat: no
  quadratic step), peak memory (:mod:`_batch.memory`: RSS, which includes the mapped pages of
  the open files, and its anonymous part). The N-image photometry runs with its progress bar
  (on stderr), against the target of ≤ 20 s for 1000 images.
* **Backends**: the same N-image calls on 2 threads (``workers=2``) and on a Dask
  ``LocalCluster`` of 2 worker processes × 1 thread (first call: the workers open the files;
  again: they keep the images), each checked against the calling thread's results: every
  photometry column bit for bit (NaN equal to NaN) and every cutout plane and header value.
* **1000 positions × M images** ("all sources of a field", M = 100): 10, 100 and 1000 positions
  in the calling thread (time per measurement must stay flat), then the 1000 on the Dask
  cluster, checked identical; rows, size of the result table and peak memory.

The images are given as the catalogue gives them: built from their ``l2image`` rows
(``image_from_db_row``), as ``Image.find_images`` does, so the client holds no open file and a
Dask task carries a row, not pixels. The one-position scaling figures are medians of
``--runs`` rounds over the sizes; the others single runs.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from _batch.data import BatchData, evict
from _batch.memory import Peak

CUTOUT = 31
TARGET_1000 = 20.0  # s, forced photometry of 1000 images, first open (issue 12)


def catalogue_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """The ``l2image`` rows of the files (what a catalogue holds for them)."""
    from snapscope.image import OpenUniverse2024FITSImage

    return [OpenUniverse2024FITSImage(full_filepath=p).db_row() for p in paths]


def from_catalogue(rows: list[dict[str, Any]]) -> list:
    """New Image objects of the rows, as ``find_images`` returns them."""
    from snapscope.image import image_from_db_row

    return [image_from_db_row(row) for row in rows]


def first_open(paths: list[Path]) -> None:
    """Forget every opened file and evict the files from the page cache (a new kernel, cold)."""
    from snapscope.image._fitscache import clear_open_files, release_mapped_pages

    release_mapped_pages()
    clear_open_files()
    gc.collect()
    evict(paths)


def measured(fn: Callable[[], Any], before: Callable[[], None], runs: int = 1,
             pids: list[int] | None = None) -> tuple[float, Peak, Any]:
    """Median time of ``fn()`` over ``runs`` (``before()`` untimed), the last run's memory, result."""
    times = []
    for _ in range(runs):
        before()
        with Peak(pids or []) as peak:
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times), peak, out


def same_table(a: Any, b: Any) -> bool:
    """Every column of the two photometry tables equal, bit for bit (NaN equal to NaN)."""
    if a.colnames != b.colnames or len(a) != len(b) or a.meta["skipped"] != b.meta["skipped"]:
        return False
    return all(np.array_equal(a[c], b[c], equal_nan=a[c].dtype.kind == "f") for c in a.colnames)


def same_stack(a: Any, b: Any) -> bool:
    """Every cutout of the two stacks equal: planes bit for bit, header values, errors."""
    if a.errors != b.errors:
        return False
    for x, y in zip(a, b, strict=True):
        if (x is None) != (y is None):
            return False
        if x is None:
            continue
        for plane in ("data", "noise", "flags"):
            if not np.array_equal(getattr(x, plane), getattr(y, plane), equal_nan=plane != "flags"):
                return False
        if any(getattr(x, k) != getattr(y, k) for k in ("band", "mjd", "exptime", "sca")):
            return False
    return True


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def table_mb(table: Any) -> float:
    return sum(table[c].nbytes for c in table.colnames) / 2**20


def one_position(data: BatchData, n: int, rows: list[dict], rounds: int) -> tuple[Any, Any]:
    """The scaling rows of one position × n/100, n/10, n images; the n-image results.

    The sizes are measured in turn, ``rounds`` times (medians): a load that drifts during the
    run (the machine is shared) weighs on every size alike.
    """
    from snapscope import batch

    paths, pos = data.copies[:n], data.sn
    steps = sorted({max(1, n // 100), max(1, n // 10), n})
    print(f"\none position × {n} images, first open, cold page cache (calling thread), "
          f"medians of {rounds} rounds over the sizes:")
    times: dict[tuple[str, int], list[float]] = {}
    peaks, table, stack = {}, None, None
    for _ in range(rounds):
        for k in steps:
            cold = lambda k=k: first_open(paths[:k])  # noqa: E731
            t, peaks[k], table = measured(
                lambda k=k: batch.forced_photometry(from_catalogue(rows[:k]), pos,
                                                    progress=k == n), cold)
            times.setdefault(("phot", k), []).append(t)
            t, _, stack = measured(
                lambda k=k: batch.cutouts(from_catalogue(rows[:k]), pos, CUTOUT, progress=False),
                cold)
            times.setdefault(("cut", k), []).append(t)
    print(f"  {'images':>6}  {'photometry':>10}  {'per image':>9}  {'cutouts':>8}  "
          f"{'per image':>9}  memory of the photometry call")
    med = {key: statistics.median(v) for key, v in times.items()}
    for k in steps:
        print(f"  {k:>6}  {med['phot', k]:>8.2f} s  {med['phot', k] / k * 1e3:>6.2f} ms  "
              f"{med['cut', k]:>6.2f} s  {med['cut', k] / k * 1e3:>6.2f} ms  "
              f"{peaks[k].describe()}")
    lo, hi = steps[0], steps[-1]
    for kind, label in (("phot", "photometry"), ("cut", "cutouts")):
        print(f"  {label}: time per image at {hi} ÷ at {lo} images: "
              f"{med[kind, hi] / hi / (med[kind, lo] / lo):.2f} (≈ 1 or less: no quadratic step)")
    t = med["phot", n]
    runs = ", ".join(f"{v:.1f}" for v in times["phot", n])
    print(f"  {n} images, forced photometry with its progress bar: {t:.2f} s (runs: {runs} s)"
          + (f"  target ≤ {TARGET_1000:g} s for 1000: {'ok' if t <= TARGET_1000 else 'MISSED'}"
             if n == 1000 else ""))
    print(f"  result: {len(table)} rows, {table_mb(table):.2f} MB; "
          f"every row has flux_err > 0: {yes(bool(np.all(table['flux_err'] > 0)))}")
    return table, stack


def psf_line(data: BatchData, n: int, rows: list[dict]) -> None:
    """Aperture + PSF photometry of the same n images, first open, cold."""
    from snapscope import batch
    from snapscope.psf import PSF

    psfs = {b: PSF.get_psf_object("OversampledImagePSF",
                                  psffile=data.survey_path / f"epsf_{b}_1.fits")
            for b in ("Y106", "H158")}
    t, peak, table = measured(
        lambda: batch.forced_photometry(from_catalogue(rows[:n]), data.sn, psf=psfs,
                                        progress=False),
        lambda: first_open(data.copies[:n]))
    print(f"  aperture + PSF photometry of the {n} images: {t:.2f} s ({t / n * 1e3:.2f} ms "
          f"per image), {len(table)} rows; {peak.describe()}")


def backends(client: Any, data: BatchData, n: int, rows: list[dict], table: Any,
             stack: Any) -> None:
    """The n-image calls on 2 threads and on the Dask cluster, checked against ``table``."""
    from snapscope import batch

    paths, pos = data.copies[:n], data.sn
    print(f"\none position × {n} images on other backends (first open, cold page cache), "
          "compared with the calling thread:")
    t, peak, threads = measured(
        lambda: batch.forced_photometry(from_catalogue(rows), pos, workers=2, progress=False),
        lambda: first_open(paths))
    print(f"  2 threads (workers=2): photometry {t:.2f} s ({t / n * 1e3:.2f} ms/image), "
          f"identical: {yes(same_table(threads, table))}; {peak.describe()}")
    pids = list(client.run(os.getpid).values())
    t, peak, dask = measured(
        lambda: batch.forced_photometry(from_catalogue(rows), pos, client=client,
                                        progress=False),
        lambda: first_open(paths), pids=pids)
    print(f"  Dask LocalCluster (2 worker processes), first call (the workers open the files): "
          f"{t:.2f} s ({t / n * 1e3:.2f} ms/image), identical: {yes(same_table(dask, table))}; "
          f"{peak.describe()}")
    t, peak, dask = measured(
        lambda: batch.forced_photometry(from_catalogue(rows), pos, client=client,
                                        progress=False), lambda: None, pids=pids)
    print(f"  Dask, again (the workers keep the images): {t:.2f} s, identical: "
          f"{yes(same_table(dask, table))}; {peak.describe()}")
    t, peak, cut = measured(
        lambda: batch.cutouts(from_catalogue(rows), pos, CUTOUT, client=client, progress=False),
        lambda: None, pids=pids)
    print(f"  Dask cutouts ({CUTOUT}², returned as Numpy2DImage): {t:.2f} s, identical planes "
          f"and header values: {yes(same_stack(cut, stack))}; {peak.describe()}")
    t, _, cut = measured(
        lambda: batch.cutouts(from_catalogue(rows), pos, CUTOUT, workers=2, progress=False),
        lambda: first_open(paths))
    print(f"  2 threads, cutouts: {t:.2f} s, identical: {yes(same_stack(cut, stack))}")


def field(client: Any, data: BatchData, m: int, n_positions: int) -> None:
    """All sources of a field: 10, 100, n_positions positions × m images; then on Dask."""
    from snapscope import batch

    paths = data.copies[:m]
    rows = catalogue_rows(paths)
    ra, dec = data.field[0][:n_positions], data.field[1][:n_positions]
    print(f"\n{n_positions} positions × {m} images (sources spread over a 1024² px field), "
          "first open, cold page cache:")
    steps = sorted({max(1, n_positions // 100), max(1, n_positions // 10), n_positions})
    per, table = {}, None
    for k in steps:
        t, peak, table = measured(
            lambda k=k: batch.forced_photometry(from_catalogue(rows), list(zip(ra[:k], dec[:k], strict=True)),
                                                progress=k == n_positions),
            lambda: first_open(paths))
        per[k] = t / len(table)
        print(f"  calling thread, {k:>5} positions: {t:8.2f} s, {len(table):>6} rows, "
              f"{per[k] * 1e3:.2f} ms per measurement; {peak.describe()}", flush=True)
    lo, hi = steps[0], steps[-1]
    print(f"  time per measurement at {hi} ÷ at {lo} positions: {per[hi] / per[lo]:.2f} (≈ 1 or less)")
    print(f"  result: {len(table)} rows, table {table_mb(table):.1f} MB")
    pids = list(client.run(os.getpid).values())
    positions = list(zip(ra, dec, strict=True))
    t, peak, dask = measured(
        lambda: batch.forced_photometry(from_catalogue(rows), positions, client=client,
                                        progress=False),
        lambda: first_open(paths), pids=pids)
    print(f"  Dask LocalCluster (2 worker processes): {t:.2f} s, identical: "
          f"{yes(same_table(dask, table))}; {peak.describe()}")


def run(data: BatchData, n: int, field_images: int, n_positions: int, rounds: int = 3) -> None:
    """Print every survey-scale figure (module docstring)."""
    from distributed import Client, LocalCluster

    from snapscope import batch

    print(f"\nsurvey scale, {os.cpu_count()} CPUs. Memory: peak RSS of the process above its "
          "start (VmHWM, reset per call; it includes the touched pages of the memory-mapped "
          "files, at most 256 open files), its anonymous part (RssAnon sampled every 10 ms: "
          "what the program allocated) and the Dask workers' peak RSS (VmHWM)")
    rows = catalogue_rows(data.copies[:n])
    batch.forced_photometry(from_catalogue(rows[:2]), data.sn, progress=False)  # imports
    table, stack = one_position(data, n, rows, rounds)
    psf_line(data, n, rows)
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        print(f"\nDask LocalCluster of 2 worker processes × 1 thread started in "
              f"{time.perf_counter() - t0:.1f} s")
        # the workers' imports (astropy.wcs, photutils), on the simulated files: no figure
        batch.forced_photometry(from_catalogue(catalogue_rows(data.originals)), data.sn,
                                client=client, progress=False)
        backends(client, data, n, rows, table, stack)
        del table, stack
        field(client, data, min(field_images, len(data.copies)), n_positions)
