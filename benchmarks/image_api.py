"""Image API speed on a 4088² OU2024-style file (plain and gzip), beside astropy/photutils called
directly in the same run.

Run: ``python benchmarks/image_api.py [--size 4088] [--keep]``. Prints a table of timings and
ratios (snapscope / direct; < 1 means snapscope is faster). The file is written once into
``benchmarks/_data/`` (git-ignored). Anchors (snappl 0.48, same machine class, from the issue):
``image_shape`` of a ``.fits.gz`` 2.2 s; ``get_cutout`` 95 ms each (plain) and 4.0 s (gz);
``ap_phot`` of 100 positions 3.2 s. Targets: header+shape of ``.fits.gz`` ≤ 20 ms, ≥ 1000 cutouts/s
once open, ``ap_phot`` of 100 positions ≤ 0.3 s on the first call on a newly opened image (and
the same numbers as photutils' ``Background2D`` + ``aperture_photometry`` called directly: the
largest relative difference over all columns is printed).

snapscope opens a file once per process (``snapscope.image._fitscache``), so "header + shape" is
given for the first Image of a file in the process ("first open": the file cache emptied before
each run) and for a new Image of a file opened before.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import time
from functools import partial
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "_data"


def make_file(size: int) -> tuple[Path, Path]:
    """Write (once) a plain and a gzip OU2024-layout file with a TAN-SIP WCS and stars."""
    from astropy.io import fits
    from astropy.wcs import WCS, Sip

    DATA.mkdir(exist_ok=True)
    plain = DATA / f"Roman_TDS_simple_model_Y106_99_{size}.fits"
    gz = Path(str(plain) + ".gz")
    if plain.exists() and gz.exists():
        return plain, gz
    rng = np.random.default_rng(0)
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    w.wcs.crval = [7.55, -44.8]
    w.wcs.crpix = [(size + 1) / 2] * 2
    t = np.radians(24.75)
    w.wcs.cd = 0.11 / 3600 * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    a, b = np.zeros((4, 4)), np.zeros((4, 4))
    a[2, 0], b[0, 2] = 2e-9, -1.5e-9
    w.sip = Sip(a, b, None, None, w.wcs.crpix)
    h = w.to_header(relax=True)
    h.update({"FILTER": "Y106", "SCA_NUM": 1, "MJD-OBS": 62470.0, "EXPTIME": 302.275,
              "SKY_MEAN": 138.0, "RA_TARG": 7.55, "DEC_TARG": -44.8, "ZPTMAG": 17.64})
    sci = rng.normal(138.0, 15.0, (size, size)).astype("f4")
    ys, xs = rng.integers(5, size - 5, (2, size))
    sci[ys, xs] += rng.uniform(100, 5000, size).astype("f4")
    err = np.full((size, size), 15.0, "f4")
    dq = (rng.random((size, size)) < 0.003).astype("u4") * 4
    hdus = [fits.PrimaryHDU(header=h), fits.ImageHDU(sci, h, name="SCI"),
            fits.ImageHDU(err, h, name="ERR"), fits.ImageHDU(dq, h, name="DQ")]
    fits.HDUList(hdus).writeto(plain, overwrite=True)
    with open(plain, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    return plain, gz


def timed(fn, repeat: int = 5) -> float:
    """Median wall time of ``fn()`` in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def row(label: str, ours: float, direct: float, note: str = "") -> None:
    print(f"{label:<46} {ours * 1e3:10.2f} ms {direct * 1e3:10.2f} ms {ours / direct:8.2f}x  {note}")


def read_all(path: Path) -> None:
    """The data plane read into memory through the Image API."""
    from snapscope.image import OpenUniverse2024FITSImage

    OpenUniverse2024FITSImage(full_filepath=path).get_data("data")


def read_all_direct(path: Path) -> None:
    """The data plane read into memory by astropy."""
    from astropy.io import fits

    np.array(fits.getdata(path, 1))


def ours_cutouts(im, centres: np.ndarray) -> None:
    """41² cutouts of all three planes through the Image API."""
    for x, y in centres:
        c = im.get_cutout(int(x), int(y), 41)
        c.data, c.noise, c.flags  # noqa: B018 - touch the planes


def direct_cutouts(planes: tuple, wcs, centres: np.ndarray) -> None:
    """The same cutouts with astropy's Cutout2D."""
    from astropy.nddata import Cutout2D

    for x, y in centres:
        for a in planes:
            Cutout2D(a, (int(x), int(y)), 41, wcs=wcs)


def direct_phot(path: Path, pos: np.ndarray):
    """snappl's ap_phot recipe with photutils called directly (file read included)."""
    from astropy.io import fits
    from photutils.aperture import ApertureStats, CircularAperture, aperture_photometry
    from photutils.background import Background2D

    data = fits.getdata(path, 1)
    ap = CircularAperture(pos, r=9)
    bg = Background2D(data, box_size=511).background
    t = aperture_photometry(data - bg, ap, method="subpixel", subpixels=5)
    t["max"] = ApertureStats(data, ap).max
    return t


def max_relative_difference(ours, direct) -> float:
    """Largest |ours - direct| / |direct| over every column of two photometry tables."""
    worst = 0.0
    for name in direct.colnames:
        a, b = np.asarray(ours[name], float), np.asarray(direct[name], float)
        worst = max(worst, float(np.nanmax(np.abs(a - b) / np.abs(b))))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4088)
    args = parser.parse_args()

    from astropy.io import fits
    from astropy.wcs import WCS

    from snapscope.image import OpenUniverse2024FITSImage
    from snapscope.image._fitscache import clear_open_files

    plain, gz = make_file(args.size)
    rng = np.random.default_rng(1)
    n = args.size
    print(f"image {n}x{n} float32 SCI/ERR/DQ; plain {plain.stat().st_size / 2**20:.0f} MiB, "
          f"gzip {gz.stat().st_size / 2**20:.0f} MiB")
    print(f"{'operation':<46} {'snapscope':>13} {'direct':>13} {'ratio':>9}")

    def ours_header(path: Path, first_open: bool) -> tuple:
        if first_open:
            clear_open_files()
        im = OpenUniverse2024FITSImage(full_filepath=path)
        return im.image_shape, im.band, im.mjd

    for label, path in (("plain", plain), ("gzip", gz)):
        direct = timed(partial(fits.getheader, path, 1))
        for first_open in (True, False):
            row(f"header + shape ({label}, {'first open' if first_open else 'opened before'})",
                timed(partial(ours_header, path, first_open)), direct,
                "target <= 20 ms" if label == "gzip" else "")

    # full read: first (cold in-process: gzip decompress once) then warm
    for label, path in (("plain", plain), ("gzip", gz)):
        t0 = time.perf_counter()
        OpenUniverse2024FITSImage(full_filepath=path).get_data("data")
        first = time.perf_counter() - t0
        ours = timed(partial(read_all, path), 3)
        direct = timed(partial(read_all_direct, path), 3)
        row(f"full data read ({label}; first call {first * 1e3:.0f} ms)", ours, direct)

    centres = rng.integers(30, n - 30, (100, 2))
    for label, path in (("plain", plain), ("gzip", gz)):
        im = OpenUniverse2024FITSImage(full_filepath=path)
        im.get_wcs()
        with fits.open(path) as hdul:
            planes = (hdul[1].data, hdul[2].data, hdul[3].data)
            wcs = WCS(hdul[1].header)
            ours = timed(partial(ours_cutouts, im, centres), 3)
            direct = timed(partial(direct_cutouts, planes, wcs, centres), 3)
        row(f"100 cutouts 41² ({label}, image open)", ours, direct,
            f"{100 / ours:,.0f} cutouts/s (target >= 1000)")

    # ap_phot on a newly opened image (file cache emptied, as in a new kernel) vs the recipe
    for npos in (100, 1000):
        pos = rng.uniform(20, n - 20, (npos, 2))
        coords = {"x": pos[:, 0], "y": pos[:, 1]}
        firsts = []
        for _ in range(3):
            clear_open_files()
            im = OpenUniverse2024FITSImage(full_filepath=plain)
            t0 = time.perf_counter()
            ours = im.ap_phot(coords)
            firsts.append(time.perf_counter() - t0)
        second = timed(partial(im.ap_phot, coords), 3)
        t0 = time.perf_counter()
        reference = direct_phot(plain, pos)
        direct = time.perf_counter() - t0
        note = f"max relative difference {max_relative_difference(ours, reference):.1e}"
        row(f"ap_phot {npos} positions, first call (new image)", statistics.median(firsts), direct,
            note + ("; target <= 300 ms" if npos == 100 else ""))
        row(f"ap_phot {npos} positions, second call", second, direct)


if __name__ == "__main__":
    main()
