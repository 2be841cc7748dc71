"""Batch cutouts and forced photometry: one position × 100 images of 4088² on disk.

Run: ``python benchmarks/batch.py [--n 100] [--data-only]``. Prints timings, ratios against a
plain loop of astropy ``Cutout2D`` + photutils calls measured in the same run, and the same batch
calls on a 2-worker Dask ``LocalCluster``. Targets (ARCHITECTURE.md): cutout grid ≤ 3 s cold and
≤ 0.5 s warm; forced photometry ≤ 2 s. No asserts.

Data (written once into ``benchmarks/_data/batch/``, git-ignored, ~20 GB): simulating 100
images of 4088² takes 15–25 s each on two cores, so four are simulated with ``snapscope.sim``
(two bands × two epochs) and the other 96 are copies made with astropy: pixels offset by
0.01·k e⁻, WCS dithered by up to ±40 px, new MJD and pointing. The copies store DQ as plain
int32 (same values); the simulator writes it as uint32 (int32 with BZERO = 2³¹, like OU2024),
which astropy cannot memory-map (a plain Cutout2D loop reads the whole 64 MiB DQ plane of each
file; snapscope maps the stored integers and scales only the cutout's pixels): that case is
measured separately on the four simulated files.

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

import numpy as np

DATA = Path(__file__).parent / "_data" / "batch"
SIMULATED = 4
SIZE = 4088
CUTOUT = 31


def make_data(n: int) -> tuple[list[Path], list[Path], tuple[float, float]]:
    """Return (copies with int32 DQ, simulated originals, SN position); write what is missing."""
    from astropy.io import fits
    from astropy.time import Time

    from snapscope.sim import make_survey

    survey = make_survey(DATA / "sim", n_images=SIMULATED, size=SIZE, bands=("Y106", "H158"),
                         mjds=(62470.0, 62490.0), seed=11, progress=True)
    originals = [Path(e["path"]) for e in survey.exposures]
    copies = []
    rng = np.random.default_rng(1)
    loaded: dict[Path, list] = {}
    for k in range(n):
        base = originals[k % SIMULATED]
        band = base.name.split("_")[4]
        path = DATA / f"Roman_TDS_simple_model_{band}_{90000 + k}_1.fits"
        copies.append(path)
        dx, dy = rng.uniform(-40, 40, 2)
        if path.exists():
            continue
        if base not in loaded:  # uint32 DQ cannot be memory-mapped: read each original once
            with fits.open(base, memmap=False) as hdul:
                loaded[base] = [(h.name, h.header.copy(), h.data) for h in hdul]
        hdus = []
        for name, header, data in loaded[base]:
            header = header.copy()
            if data is None:
                hdus.append(fits.PrimaryHDU(header=header))
                continue
            for key in ("BZERO", "BSCALE"):
                header.remove(key, ignore_missing=True)
            header["CRVAL1"] += dx * 0.11 / 3600 / np.cos(np.radians(header["CRVAL2"]))
            header["CRVAL2"] += dy * 0.11 / 3600
            header["MJD-OBS"] = header["MJD"] = 62420.0 + 2.0 * k
            header["DATE-OBS"] = Time(header["MJD-OBS"], format="mjd").isot
            header["POINTING"] = 90000 + k
            if name == "SCI":
                data = data + np.float32(0.01 * k)
            elif name == "DQ":
                data = data.astype(np.int32)
            hdus.append(fits.ImageHDU(data, header=header, name=name))
        tmp = path.with_suffix(".tmp")
        fits.HDUList(hdus).writeto(tmp, overwrite=True)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        tmp.rename(path)
        evict([path])
        print(f"  wrote {path.name} ({k + 1}/{n})", flush=True)
    return copies, originals, (survey.sn_ra, survey.sn_dec)


def evict(paths: list[Path]) -> None:
    """Drop the files' pages from the page cache (they are clean, so DONTNEED frees them)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


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
    parser.add_argument("--n", type=int, default=100, help="number of images (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--data-only", action="store_true", help="write the files and stop")
    args = parser.parse_args()

    t_data, (paths, originals, (ra, dec)) = timed(make_data, args.n)
    print(f"data: {len(paths)} images of {SIZE}² in {DATA} ({t_data:.0f} s to check/make): "
          f"{SIMULATED} simulated with snapscope.sim, {len(paths)} astropy copies of them with "
          "perturbed pixels, WCS and MJD (see the module docstring)")
    if args.data_only:
        return

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

    pos, n = (ra, dec), args.runs
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
