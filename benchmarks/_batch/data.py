"""The images of ``benchmarks/batch.py``: 4088² OU2024-style FITS files, written once.

Everything lives in ``benchmarks/_data/batch/`` (git-ignored) and is reused by later runs.

* **Four simulated exposures** (``snapscope.sim``: two bands × two epochs, 15–25 s each on two
  cores), in ``sim/``. Their DQ plane is uint32 (int32 with BZERO = 2³¹, as OU2024 writes it).
* **Copies** of them, as many as a run asks for (``sparse-1024/``): copy ``k`` has the pixels of
  exposure ``k % 4`` plus 0.01·k e⁻, its WCS dithered by up to ±40 px, its own MJD, pointing
  and file name. The copies store DQ as plain int32 (same values), which astropy can
  memory-map, so the plain astropy loop the benchmark compares with reads only the stamp's rows,
  as snapscope does (the uint32 case is measured on the four simulated files).
* **The copies are sparse files.** Their planes are full 4088² planes (headers, shapes, WCS,
  byte offsets and row strides as in a real SCA file), but only a box around the measured sky
  positions is written; the rest are file-system holes, read back as zeros. 1000 dense copies
  would take 200 GB; these take 4.4 GB. Batch work reads only the rows of its stamps, so the
  disk reads of a cold run are those of a dense file (the stamp rows are asked of the kernel
  with ``madvise(WILLNEED)`` and are real blocks); only the kernel's read-around past a box
  edge may read holes instead of pixels.
* **The field.** :func:`field_positions` gives 1000 sky positions spread uniformly over a
  1024² pixel region centred on the supernova (the "all sources of a field" case). The first
  :data:`FIELD_IMAGES` copies hold that whole region; the others a box around the supernova.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).parents[1] / "_data" / "batch"
SIMULATED = 4
SIZE = 4088
#: Side of the field region, pixels; the number of field positions; copies that hold the field.
FIELD, FIELD_POSITIONS, FIELD_IMAGES = 1024, 1000, 100
#: Largest WCS dither of a copy, and the margin kept around every position (stamp + dither).
DITHER, MARGIN = 40.0, 40
_COPIES = DATA / f"sparse-{FIELD}"
_BLOCK = 2880
_DTYPES = {-32: ">f4", 32: ">i4"}


@dataclass
class BatchData:
    """The benchmark's files.

    Attributes
    ----------
    copies : list of Path
        The copies, in pointing order (sparse; int32 DQ).
    originals : list of Path
        The simulated exposures (uint32 DQ).
    sn : (float, float)
        RA, Dec of the supernova, degrees (every copy holds it).
    field : (ndarray, ndarray)
        RA, Dec of the field positions, degrees (the first ``FIELD_IMAGES`` copies hold them).
    survey_path : Path
        The simulated survey's directory (its ``epsf_<band>_1.fits`` PSFs).
    """

    copies: list[Path]
    originals: list[Path]
    sn: tuple[float, float]
    field: tuple[np.ndarray, np.ndarray]
    survey_path: Path


def field_positions(original: Path, sn: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec of :data:`FIELD_POSITIONS` positions uniform over a FIELD² box around ``sn``."""
    from snapscope.image import OpenUniverse2024FITSImage

    wcs = OpenUniverse2024FITSImage(full_filepath=original).get_wcs()
    x, y = wcs.world_to_pixel(*sn)
    dx, dy = np.random.default_rng(2).uniform(-FIELD / 2, FIELD / 2, (2, FIELD_POSITIONS))
    ra, dec = wcs.pixel_to_world(x + dx, y + dy)
    return np.asarray(ra, float), np.asarray(dec, float)


def make_data(n: int, progress: bool = True) -> BatchData:
    """Return the files for ``n`` copies, writing the ones that are missing (module docstring).

    Call it under ``if __name__ == "__main__":``: the simulator may start worker processes.
    """
    from snapscope._utils._progress import progress as progress_bar
    from snapscope.sim import make_survey

    survey = make_survey(DATA / "sim", n_images=SIMULATED, size=SIZE, bands=("Y106", "H158"),
                         mjds=(62470.0, 62490.0), seed=11, progress=progress)
    originals = [Path(e["path"]) for e in survey.exposures]
    sn = (survey.sn_ra, survey.sn_dec)
    field = field_positions(originals[0], sn)
    _COPIES.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    dithers = rng.uniform(-DITHER, DITHER, (n, 2))
    copies = [_copy_path(originals[k % SIMULATED], k) for k in range(n)]
    missing = [k for k in range(n) if not copies[k].exists()]
    loaded: dict[Path, list] = {}
    for k in progress_bar(missing, desc="sparse copies", enabled=progress and bool(missing)):
        base = originals[k % SIMULATED]
        if base not in loaded:
            loaded[base] = _read(base)
        sky = field if k < FIELD_IMAGES else (np.array([sn[0]]), np.array([sn[1]]))
        _write_copy(copies[k], loaded[base], k, dithers[k], sky)
    if missing:
        evict(copies)
    return BatchData(copies, originals, sn, field, survey.path)


def _copy_path(base: Path, k: int) -> Path:
    from snapscope.image import OpenUniverse2024FITSImage

    band = OpenUniverse2024FITSImage.parse_filename(base.name)["band"]
    return _COPIES / OpenUniverse2024FITSImage.filename_for(band, 90000 + k, 1, gzip=False)


def _read(path: Path) -> list[tuple[Any, np.ndarray | None]]:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        return [(h.header.copy(), None if h.data is None else np.array(h.data)) for h in hdul]


def _copy_header(header: Any, k: int, dither: np.ndarray) -> Any:
    import warnings

    from astropy.time import Time
    from erfa import ErfaWarning

    header = header.copy()
    header["CRVAL1"] += dither[0] * 0.11 / 3600 / np.cos(np.radians(header["CRVAL2"]))
    header["CRVAL2"] += dither[1] * 0.11 / 3600
    header["MJD-OBS"] = header["MJD"] = 62420.0 + 2.0 * k
    with warnings.catch_warnings():  # a date after the leap-second table's end is "dubious"
        warnings.simplefilter("ignore", ErfaWarning)
        header["DATE-OBS"] = Time(header["MJD-OBS"], format="mjd").isot
    header["POINTING"] = 90000 + k
    return header


def _box(header: Any, sky: tuple[np.ndarray, np.ndarray]) -> tuple[int, int, int, int]:
    """Pixel box ``(x0, x1, y0, y1)`` holding every position of ``sky`` plus the margin."""
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        x, y = WCS(header).all_world2pix(sky[0], sky[1], 0)
    nx, ny = header["NAXIS1"], header["NAXIS2"]
    x0, y0 = max(int(np.floor(x.min())) - MARGIN, 0), max(int(np.floor(y.min())) - MARGIN, 0)
    x1, y1 = min(int(np.ceil(x.max())) + MARGIN + 1, nx), min(int(np.ceil(y.max())) + MARGIN + 1, ny)
    return x0, x1, y0, y1


def _write_copy(path: Path, hdus: list, k: int, dither: np.ndarray,
                sky: tuple[np.ndarray, np.ndarray]) -> None:
    """Write copy ``k`` as a FITS file whose planes hold only the box of ``sky`` (holes else)."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        for header, data in hdus:
            header = _copy_header(header, k, dither) if data is not None else header.copy()
            if data is None:
                f.write(header.tostring(padding=True).encode("ascii"))
                continue
            for key in ("BZERO", "BSCALE"):
                header.remove(key, ignore_missing=True)
            if header.get("EXTNAME") == "SCI":
                data = data + np.float32(0.01 * k)
            dtype = np.dtype(_DTYPES[header["BITPIX"]])
            f.write(header.tostring(padding=True).encode("ascii"))
            start = f.tell()
            x0, x1, y0, y1 = _box(header, sky)
            nx = data.shape[1]
            for row in range(y0, y1):
                f.seek(start + (row * nx + x0) * dtype.itemsize)
                f.write(data[row, x0:x1].astype(dtype).tobytes())
            size = data.size * dtype.itemsize
            f.seek(start + -(-size // _BLOCK) * _BLOCK)
        f.truncate()
        os.fsync(f.fileno())  # clean pages, so evict() can drop them
    tmp.rename(path)


def evict(paths: list[Path]) -> None:
    """Drop the files' pages from the page cache (they are clean, so DONTNEED frees them)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
