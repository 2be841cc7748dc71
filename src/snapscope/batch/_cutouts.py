"""Cutouts of one sky position over many images, and their export as one multi-extension FITS.

Decisions
---------
* Each cutout **is** ``image.get_ra_dec_cutout(ra, dec, size, mode=mode)`` (default
  ``mode='partial'``: an image whose edge is near the position still gives a cutout, its missing
  pixels NaN and flagged), so the pixels, header and WCS are exactly what the Image API gives.
* Before that, the box's rows of each plane are asked of the kernel at once
  (:func:`prefetch_box`, through the image's ``pixel_source(...).prefetch``): 4× faster on a
  cold page cache (see ``snapscope.image.PixelSource``).
* An image that cannot give a cutout (position off the image, unreadable file, no WCS) gives
  ``None`` and a one-line reason in ``stack.errors``; one bad file does not stop the batch.
* On a Dask cluster the cutouts come back as :class:`~snapscope.image.Numpy2DImage` with the
  same planes, WCS and header values (band, mjd, exptime, sca, observation_id, sky_level,
  zeropoint): a file-backed cutout keeps a reference to its parent's open file and cannot be
  pickled.
* The stack is written as ``SCI``/``ERR``/``DQ`` extensions with ``EXTVER`` = 1, 2, … (one
  version per cutout, in stack order; each with its own WCS and ``BAND MJD-OBS EXPTIME SCA
  IMAGEID FILEPATH ZP_AB`` keywords, those with an unknown value left out) and an ``INDEX`` table, so
  ``fits.getdata(path, ("SCI", 3))`` is the third cutout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snapscope.batch._positions import parse_position
from snapscope.batch._run import portable, run

__all__ = ["cutouts", "CutoutStack", "write_stamps", "image_key", "zeropoint_or_none",
           "prefetch_box", "release_rows"]

_HEADER_VALUES = ("band", "mjd", "exptime", "sca", "observation_id", "sky_level")


def image_key(image: Any) -> str:
    """Return a stable string naming an image: its catalogue id, else its file, else ``id()``."""
    if getattr(image, "id", None) is not None:
        return str(image.id)
    path = getattr(image, "full_filepath", None)
    return str(path) if path is not None else f"memory:{id(image)}"


def zeropoint_or_none(image: Any) -> float | None:
    try:
        return float(image.get_zeropoint())
    except (NotImplementedError, ValueError, KeyError, OSError):
        return None


def prefetch_box(image: Any, x: float, y: float, xsize: int, ysize: int) -> None:
    """Ask the kernel for the pixels of a ``ysize × xsize`` box centred on pixel (x, y), at once.

    Parameters
    ----------
    image : Image
        Its data, noise and flags planes (``pixel_source``) are advised; planes it lacks or
        cannot open are skipped (the cutout that follows reports those errors).
    x, y : float
        Centre pixel (0-origin; the nearest pixel is used, as for cutouts).
    xsize, ysize : int
        Box size in pixels.
    """
    xc, yc = math.floor(x + 0.5), math.floor(y + 0.5)
    rows, cols = range(yc - ysize // 2, yc + ysize // 2 + 1), (xc - xsize // 2, xc + xsize // 2 + 1)
    for source in _pixel_sources(image):
        source.prefetch(rows, cols)


def release_rows(image: Any, r0: int = 0, r1: int | None = None) -> None:
    """Drop this process's mapped pages of rows ``[r0, r1)`` (default: all) of the image's planes.

    ``PixelSource.release``: the pages stay in the page cache and the next read maps them
    again; planes in memory, or that the image lacks or cannot open, are skipped.
    """
    for source in _pixel_sources(image):
        source.release(r0, source.shape[0] if r1 is None else r1)


def _pixel_sources(image: Any) -> Iterator[Any]:
    """The image's data, noise and flags ``PixelSource`` (planes it lacks or cannot open: none)."""
    for which in ("data", "noise", "flags"):
        try:
            source = image.pixel_source(which)
        except (OSError, ValueError, NotImplementedError):
            continue
        if source is not None:
            yield source


def _detached(cut: Any) -> Any:
    """Return a picklable Numpy2DImage with the cutout's planes, WCS and header values."""
    from snapscope.exceptions import NoWCSError
    from snapscope.image import Numpy2DImage

    try:
        wcs = cut.get_wcs()
    except NoWCSError:
        wcs = None
    values = {name: getattr(cut, name) for name in _HEADER_VALUES}
    values = {k: v for k, v in values.items() if v is not None}
    return Numpy2DImage(data=cut.data, noise=cut.noise, flags=cut.flags, wcs=wcs,
                        zeropoint=zeropoint_or_none(cut), **values)


def _cut_one(image: Any, ra: float, dec: float, size: int, mode: str, detach: bool,
             ) -> tuple[Any, str | None]:
    try:
        x, y = image.get_wcs().world_to_pixel(ra, dec)
        if np.isfinite(x) and np.isfinite(y):
            prefetch_box(image, x, y, size, size)
        cut = image.get_ra_dec_cutout(ra, dec, size, mode=mode)
        return (_detached(cut) if detach else cut), None
    except (OSError, ValueError) as err:
        return None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


@dataclass
class CutoutStack(Sequence):
    """Cutouts of one position over many images (``stack[i]`` is the i-th cutout or None).

    Attributes
    ----------
    ra, dec : float
        The position, degrees.
    size : int
        Cutout side, pixels.
    images : list of Image
        The images, in the order given.
    cutouts : list of Image or None
        ``images[i].get_ra_dec_cutout(...)``, None where it failed.
    errors : list of str or None
        Why a cutout is None.
    """

    ra: float
    dec: float
    size: int
    images: list[Any]
    cutouts: list[Any] = field(repr=False)
    errors: list[str | None] = field(repr=False)

    def __getitem__(self, i: Any) -> Any:
        return self.cutouts[i]

    def __len__(self) -> int:
        return len(self.cutouts)

    def write_fits(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the cutouts as one multi-extension FITS file (see the module docstring).

        :func:`write_stamps` with SCI/ERR/DQ per cutout: the same ``path``, ``overwrite``,
        result and errors.
        """
        rows = [(image, cut, (("SCI", cut.data), ("ERR", cut.noise), ("DQ", cut.flags)))
                for image, cut in zip(self.images, self.cutouts, strict=True) if cut is not None]
        return write_stamps(path, self.ra, self.dec, self.size, rows, overwrite=overwrite)


def write_stamps(path: str | Path, ra: float, dec: float, size: int,
                 rows: Iterable[tuple[Any, Any, Iterable[tuple[str, Any]]]], *,
                 overwrite: bool = False) -> Path:
    """Write stamps of one position as one multi-extension FITS file, atomically.

    Parameters
    ----------
    path : str or Path
        The file to write.
    ra, dec : float
        The position, degrees (primary header ``RA_POS``, ``DEC_POS``).
    size : int
        Stamp side, pixels (``CUTSIZE``).
    rows : iterable of (image, stamp, planes)
        Per image: the parent image, the stamp whose WCS and header values head each extension,
        and ``(EXTNAME, array or None)`` planes, written with ``EXTVER`` = the row's number
        (1, 2, …; planes that are None are left out). An ``INDEX`` table lists the rows.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OSError
        When ``path`` exists and ``overwrite`` is False, or it cannot be written.
    """
    from astropy.io import fits
    from astropy.table import Table

    from snapscope._utils._atomic import atomic_path

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    hdus: list[Any] = [fits.PrimaryHDU()]
    primary = hdus[0].header
    primary["RA_POS"], primary["DEC_POS"] = ra, dec
    primary["CUTSIZE"] = size
    index: dict[str, list] = {"EXTVER": [], "IMAGEID": [], "FILEPATH": [], "BAND": [],
                              "MJD": [], "FLAGFRAC": []}
    for image, stamp, planes in rows:
        extver = len(index["EXTVER"]) + 1
        header = _cutout_header(image, stamp)
        for name, plane in planes:
            if plane is not None:
                hdus.append(fits.ImageHDU(np.asarray(plane), header=header.copy(), name=name,
                                          ver=extver))
        index["EXTVER"].append(extver)
        index["IMAGEID"].append(header["IMAGEID"])
        index["FILEPATH"].append(header["FILEPATH"])
        index["BAND"].append(header["BAND"])
        index["MJD"].append(header.get("MJD-OBS", np.nan))
        index["FLAGFRAC"].append(float(stamp.fraction_masked()))
    primary["NCUTOUT"] = len(index["EXTVER"])
    hdus.append(fits.BinTableHDU(Table(index), name="INDEX"))
    with atomic_path(path) as tmp:
        fits.HDUList(hdus).writeto(tmp)
    return path


def _cutout_header(image: Any, cut: Any) -> Any:
    from astropy.io import fits

    from snapscope.exceptions import NoWCSError

    try:
        wcs = cut.get_wcs()
        try:
            header = wcs.to_fits_header()
        except NotImplementedError:
            header = wcs.get_astropy_wcs().to_header(relax=True)
    except NoWCSError:
        header = fits.Header()
    header["BAND"] = (cut.band or "", "filter")
    header["IMAGEID"] = (str(image.id or ""), "catalogue id of the parent image")
    header["FILEPATH"] = (str(getattr(image, "full_filepath", None) or ""), "parent image file")
    known = {"MJD-OBS": (cut.mjd, "MJD of the exposure start"),
             "EXPTIME": (cut.exptime, "exposure time, s"), "SCA": (cut.sca, "detector"),
             "ZP_AB": (zeropoint_or_none(cut), "AB zeropoint: m = -2.5 log10(flux) + ZP_AB")}
    for key, (value, comment) in known.items():
        if value is not None:  # FITS headers cannot hold NaN: an unknown value has no card
            header[key] = (value, comment)
    return header


def cutouts(images: Iterable[Any], position: Any, size: int = 31, *, mode: str = "partial",
            client: Any = None, workers: int | None = None, progress: bool = True,
            callback: Callable[[int, int], Any] | None = None) -> CutoutStack:
    """Cut out one sky position from many images.

    Parameters
    ----------
    images : iterable of Image
        E.g. the result of ``Image.find_images(ra=..., dec=...)``; the order is kept.
    position : str, SkyCoord or (float, float)
        The sky position (degrees, or sexagesimal text; see
        :func:`snapscope.batch.parse_position`).
    size : int
        Cutout side in pixels (odd).
    mode : {'partial', 'strict'}
        As ``get_ra_dec_cutout``; 'partial' keeps cutouts that cross an image edge.
    client : distributed.Client, optional
        Cut on this Dask cluster (module docstring).
    workers : int, optional
        Local threads (default 1: the calling thread; see :mod:`snapscope.batch`).
    progress : bool
        Show a progress bar.
    callback : callable, optional
        ``callback(done, total)`` as cutouts arrive (for widgets).

    Returns
    -------
    CutoutStack

    Raises
    ------
    ValueError
        For an unreadable position, an even or non-positive size or an unknown mode.
    """
    ra, dec = parse_position(position)
    if (isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1
            or size % 2 == 0):
        raise ValueError(f"size must be a positive odd number of pixels, not {size!r}")
    if mode not in ("partial", "strict"):
        raise ValueError(f"mode must be 'partial' or 'strict', not {mode!r}")
    images = list(images)
    items = [portable(im) for im in images] if client is not None else images
    shared = {"ra": ra, "dec": dec, "size": int(size), "mode": mode, "detach": client is not None}
    results = run(_cut_one, items, shared=shared, client=client, workers=workers,
                  progress=progress, desc="cutouts", callback=callback)
    return CutoutStack(ra, dec, int(size), images, [r[0] for r in results],
                       [r[1] for r in results])
