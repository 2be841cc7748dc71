"""Batch cutouts and forced photometry: one position × 100 images of 4088² on disk, and survey scale.

Run: ``python benchmarks/batch.py [--n 100] [--images 1000] [--data-only]``.

* ``--n N`` (default 100, the figures printed when ``--images`` is not given): timings of one
  position × N images, with ratios against a plain loop of astropy ``Cutout2D`` + photutils
  calls measured in the same run, and the same batch calls on a 2-worker Dask ``LocalCluster``.
  Targets (ARCHITECTURE.md): cutout grid ≤ 3 s cold and ≤ 0.5 s warm; forced photometry ≤ 2 s.
* ``--images N``: the survey-scale figures of issue 12 (``_batch/scale.py``): one position ×
  N/100, N/10, N images and 1000 positions × 100 images, time per image, peak memory, and
  identical numbers in the calling thread, on threads and on a Dask ``LocalCluster`` of 2 worker
  processes. Target: 1000 images, first-open forced photometry ≤ 20 s.

No asserts. The data (``_batch/data.py``) are written once into ``benchmarks/_data/batch/``
(git-ignored): four exposures simulated with ``snapscope.sim`` and sparse 4088² copies of them
(only a box around the measured positions is written: 4.4 GB for 1000 copies, 0.8 GB for the
four simulated files).

snapscope opens each file once per process (``snapscope.image._fitscache``: headers, WCS and
memory map shared by every Image object of the file). So "new objects" come in two kinds:
"first open" = the process has never opened the files (cache emptied, as in a new kernel:
headers and WCS are parsed), and plain "new objects" = Image objects made afresh for files the
process has opened before (as after a new search). "Cold" = every file evicted from the page
cache with ``posix_fadvise(DONTNEED)`` (after unmapping the pages the process touched);
"same objects" = the Image objects of a previous call (what the Explorer does when the
position or the stretch changes).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from pathlib import Path

from _batch.data import SIZE, evict, make_data

CUTOUT = 31


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def line(label: str, seconds: float, target: float | None = None, anchor: float | None = None,
         note: str = "") -> None:
    parts = [f"{label:<58} {seconds:8.3f} s"]
    if target is not None:
        parts.append(f"target ≤ {target:g} s {'ok' if seconds <= target else 'MISSED'}")
    if anchor is not None:
        parts.append(f"{anchor / seconds:5.1f}× faster than the plain loop")
    if note:
        parts.append(note)
    print("  ".join(parts), flush=True)


def plain_stamps(paths: list[Path], ra: float, dec: float, size: int):
    """Yield the SCI, ERR and DQ ``Cutout2D`` of each file, as a notebook user writes it with
    astropy alone: open the file, build its WCS, cut the three planes."""
    import warnings

    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy.nddata import Cutout2D
    from astropy.wcs import WCS, FITSFixedWarning

    pos = SkyCoord(ra, dec, unit="deg")
    for path in paths:
        with fits.open(path) as hdul, warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(hdul["SCI"].header)
            yield tuple(Cutout2D(hdul[name].data, pos, size, wcs=wcs, mode="partial", copy=True)
                        for name in ("SCI", "ERR", "DQ"))


def plain_cutouts(paths: list[Path], ra: float, dec: float) -> list:
    """What a notebook user writes without snapscope: astropy Cutout2D of SCI, ERR, DQ."""
    return [list(stamps) for stamps in plain_stamps(paths, ra, dec, CUTOUT)]


def plain_photometry(paths: list[Path], ra: float, dec: float) -> list:
    """The same measurement as snapscope's default, written with astropy + photutils directly."""
    from astropy.coordinates import SkyCoord
    from photutils.aperture import CircularAperture, aperture_photometry
    from photutils.background import Background2D

    pos = SkyCoord(ra, dec, unit="deg")
    out = []
    for sci, err, dq in plain_stamps(paths, ra, dec, 65):
        mask = dq.data != 0
        sub = sci.data - Background2D(sci.data, 16, mask=mask).background
        x, y = sci.wcs.world_to_pixel(pos)
        out.append(aperture_photometry(sub, CircularAperture((x, y), 3.0), error=err.data,
                                       mask=mask, method="exact"))
    return out


def median_of(runs: int, fn, *args, before=None, **kwargs) -> float:
    """Median wall time of ``fn(*args, **kwargs)`` over ``runs`` runs (``before()`` untimed)."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        times.append(timed(fn, *args, **kwargs)[0])
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=None,
                        help="images of the one-position figures (default 100 without --images)")
    parser.add_argument("--images", type=int, default=None,
                        help="survey-scale figures up to this many images (e.g. 1000)")
    parser.add_argument("--field-images", type=int, default=100,
                        help="images of the all-sources-of-a-field figures (default 100)")
    parser.add_argument("--positions", type=int, default=1000,
                        help="positions of the all-sources-of-a-field figures (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--data-only", action="store_true", help="write the files and stop")
    args = parser.parse_args()
    if args.n is None and args.images is None:
        args.n = 100

    t_data, data = timed(make_data, max(args.n or 0, args.images or 0, args.field_images))
    print(f"data: {len(data.copies)} images of {SIZE}² ({t_data:.0f} s to check/make): "
          f"{len(data.originals)} simulated with snapscope.sim, sparse copies of them with "
          "perturbed pixels, WCS and MJD (see benchmarks/_batch/data.py)")
    if args.data_only:
        return
    if args.n:
        one_position(data.copies[:args.n], data.originals, data.sn, args.runs)
    if args.images:
        from _batch import scale

        scale.run(data, args.images, args.field_images, args.positions, args.runs)


def one_position(paths: list[Path], originals: list[Path], sn: tuple[float, float],
                 n: int) -> None:
    """The one-position figures (module docstring), ``n`` runs per figure."""
    ra, dec = sn

    from snapscope import batch
    from snapscope.image import OpenUniverse2024FITSImage
    from snapscope.image._fitscache import clear_open_files, release_mapped_pages
    from snapscope.widgets import CutoutGrid

    def fresh(files: list[Path]) -> list:
        return [OpenUniverse2024FITSImage(full_filepath=p) for p in files]

    def cold() -> None:  # a page mapped by this process cannot be evicted: unmap them first
        gc.collect()
        release_mapped_pages()
        evict(paths)

    def first_open() -> None:
        clear_open_files()
        cold()

    pos = (ra, dec)
    print(f"\none position × {len(paths)} images, {CUTOUT}² cutouts, {os.cpu_count()} CPUs, "
          f"{batch.default_workers()} threads, median of {n} runs per figure\n")
    # a first call pays for imports (astropy.wcs, photutils): not part of any figure
    batch.forced_photometry(fresh(paths[:2]), pos, progress=False)
    plain_photometry(paths[:2], ra, dec)

    def opened() -> list:
        """New objects with headers, WCS and planes opened but no pixel touched, then evicted."""
        out = fresh(paths)
        for im in out:
            im.get_wcs()
            for which in ("data", "noise", "flags"):
                im.get_data_view(which)
        cold()
        return out

    # cold figures first, while no image maps any page (mapped pages cannot be evicted)
    plain_cold = median_of(n, plain_cutouts, paths, ra, dec, before=cold)
    line("plain loop astropy Cutout2D ×3 planes, cold", plain_cold)
    t = median_of(n, lambda: batch.cutouts(fresh(paths), pos, CUTOUT, progress=False),
                  before=first_open)
    line("snapscope.batch.cutouts, cold, first open", t, 3.0, plain_cold)
    t = median_of(n, lambda: batch.cutouts(fresh(paths), pos, CUTOUT, progress=False),
                  before=cold)
    line("snapscope.batch.cutouts, cold, new objects", t, 3.0, plain_cold)
    runs = []
    for _ in range(n):
        ready = opened()
        runs.append(timed(batch.cutouts, ready, pos, CUTOUT, progress=False)[0])
        del ready
    line("snapscope.batch.cutouts, cold pixels, images already open", statistics.median(runs),
         3.0, plain_cold)
    grid = CutoutGrid(size=CUTOUT, page_size=len(paths))
    t = median_of(n, lambda: grid.show(fresh(paths), pos),
                  before=lambda: (grid.show([], pos), first_open()))
    line("CutoutGrid (cutouts, shared stretch, PNGs), cold, first open", t, 3.0, plain_cold)
    t = median_of(n, lambda: grid.show(fresh(paths), pos),
                  before=lambda: (grid.show([], pos), cold()))
    line("CutoutGrid (cutouts, shared stretch, PNGs), cold, new objects", t, 3.0, plain_cold)
    grid.show([], pos)
    t = median_of(n, lambda: batch.forced_photometry(fresh(paths), pos, progress=False),
                  before=first_open)
    line("snapscope.batch.forced_photometry, cold, first open", t, None, None)
    t = median_of(n, lambda: batch.forced_photometry(fresh(paths), pos, progress=False),
                  before=cold)
    line("snapscope.batch.forced_photometry, cold, new objects", t, None, None)

    print()
    plain_warm = median_of(n, plain_cutouts, paths, ra, dec)
    line("plain loop astropy Cutout2D ×3 planes, warm", plain_warm)
    t = median_of(n, lambda: batch.cutouts(fresh(paths), pos, CUTOUT, progress=False),
                  before=clear_open_files)
    line("snapscope.batch.cutouts, warm, first open", t, None, plain_warm)
    t = median_of(n, lambda: [im.get_wcs() for im in fresh(paths)], before=clear_open_files)
    line("  of which: headers + WCS of the new objects (Image API)", t)
    t = median_of(n, lambda: batch.cutouts(fresh(paths), pos, CUTOUT, progress=False))
    line("snapscope.batch.cutouts, warm, new objects", t, None, plain_warm)
    t = median_of(n, lambda: [im.get_wcs() for im in fresh(paths)])
    line("  of which: headers + WCS of the new objects (Image API)", t)
    images = fresh(paths)
    batch.cutouts(images, pos, CUTOUT, progress=False)
    t = median_of(n, batch.cutouts, images, pos, CUTOUT, progress=False)
    line("snapscope.batch.cutouts, warm, same objects", t, 0.5, plain_warm)
    grid.show(images, pos)
    t = median_of(n, grid.show, images, pos)
    line("CutoutGrid, warm, same objects", t, 0.5, plain_warm)
    t = median_of(n, lambda: grid.set_stretch("asinh" if grid.stretch.value == "sqrt" else "sqrt"))
    line("CutoutGrid, change the shared stretch", t)

    plain_phot = median_of(n, plain_photometry, paths, ra, dec)
    line("plain loop Cutout2D + Background2D + aperture_photometry, warm", plain_phot)
    t = median_of(n, lambda: batch.forced_photometry(fresh(paths), pos, progress=False),
                  before=clear_open_files)
    line("snapscope.batch.forced_photometry, warm, first open", t, 2.0, plain_phot)
    t = median_of(n, lambda: batch.forced_photometry(fresh(paths), pos, progress=False))
    line("snapscope.batch.forced_photometry, warm, new objects", t, 2.0, plain_phot)
    t = median_of(n, batch.forced_photometry, images, pos, progress=False)
    line("snapscope.batch.forced_photometry, warm, same objects", t, 2.0, plain_phot)

    from distributed import Client, LocalCluster

    print()
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        line("Dask LocalCluster (2 worker processes × 2 threads) start", time.perf_counter() - t0)
        t, _ = timed(batch.forced_photometry, images, pos, client=client, progress=False)
        line("batch.forced_photometry on Dask, first call (workers open the files)", t, None,
             plain_phot)
        t = median_of(n, batch.forced_photometry, images, pos, client=client, progress=False)
        line("batch.forced_photometry on Dask, again (workers keep the images)", t, 2.0,
             plain_phot)
        t = median_of(n, batch.cutouts, images, pos, CUTOUT, client=client, progress=False)
        line("batch.cutouts on Dask (workers keep the images)", t, None, plain_warm,
             "cutouts travel back as Numpy2DImage (WCS unpickled)")

    print("\nthe simulator's own files (DQ stored as uint32 = int32 + BZERO; astropy reads it whole):")
    k = len(originals)
    t = median_of(n, lambda: batch.cutouts(fresh(originals), pos, CUTOUT, progress=False),
                  before=clear_open_files)
    line(f"batch.cutouts of {k} files, warm, first open", t,
         note=f"→ {t / k * len(paths):.1f} s per {len(paths)}")
    t = median_of(n, lambda: batch.cutouts(fresh(originals), pos, CUTOUT, progress=False))
    line(f"batch.cutouts of {k} files, warm, new objects", t,
         note=f"→ {t / k * len(paths):.1f} s per {len(paths)}")
    t = median_of(n, plain_cutouts, originals, ra, dec)
    line(f"plain Cutout2D loop of {k} files, warm", t,
         note=f"→ {t / k * len(paths):.1f} s per {len(paths)}")


if __name__ == "__main__":
    main()
