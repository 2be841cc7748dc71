"""Writing image planes to FITS files: one file per plane or one multi-extension file.

Every file is first written under a temporary name in its target directory and renamed into
place only after all files were written, so a failure leaves the previous files untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_planes"]

_STRUCTURAL = ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "XTENSION", "PCOUNT",
               "GCOUNT", "BZERO", "BSCALE", "EXTNAME", "CHECKSUM", "DATASUM")
_EXTNAME = {"data": "SCI", "noise": "ERR", "flags": "DQ"}


def _plane_header(full: Any, wcs_header: Any, plane: str) -> Any:
    from astropy.io import fits

    from snapscope.image._fits import strip_wcs_keywords

    if plane == "data":
        header = strip_wcs_keywords(full)
        for key in _STRUCTURAL:
            header.remove(key, ignore_missing=True, remove_all=True)
    else:
        header = fits.Header()
    if wcs_header is not None:
        header.update(wcs_header)
    return header


def _check_suffix(path: Path) -> None:
    if not path.name.endswith((".fits", ".fit", ".fts", ".fits.gz")):
        raise ValueError(f"FITS file names must end in .fits (or .fits.gz): {path}")


def write_planes(full_header: Any, wcs_header: Any, arrays: dict[str, np.ndarray | None],
                 targets: dict[str, tuple[Path | None, Any]], planes: tuple[str, ...], *,
                 overwrite: bool) -> list[Path]:
    """Write ``planes`` of ``arrays`` to their ``targets`` ((path, hdu) per plane).

    Planes sharing a path become one multi-extension file; planes of that file that were not
    asked for are written too (from ``arrays``), so the file stays complete.

    Raises
    ------
    ValueError
        A plane asked for does not exist or has no file of its own, or HDUs collide.
    FileExistsError
        A target exists and ``overwrite`` is False (nothing is written).
    """
    explicit = len(planes) == 1
    wanted = [p for p in planes if arrays[p] is not None]
    for p in planes:
        if arrays[p] is None and (explicit or p == "data"):
            raise ValueError(f"the image has no {p} plane to save")
    by_file: dict[Path, dict[str, Any]] = {}
    for p in wanted:
        path = targets[p][0]
        if path is None:
            raise ValueError(f"no file to save the {p} plane to; give {p}path=")
        _check_suffix(path)
        by_file.setdefault(path, {})
    for p in ("data", "noise", "flags"):  # every plane living in a file being written
        path, hdu = targets[p]
        if path not in by_file or arrays[p] is None:
            continue
        clash = [q for q, h in by_file[path].items() if h == hdu]
        if clash and p in wanted:
            raise ValueError(f"{clash[0]} and {p} would both go to HDU {hdu!r} of {path}; "
                             f"give a separate {p}path= or a different {p}hdu=")
        if not clash:
            by_file[path][p] = hdu
    existing = [str(p) for p in by_file if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"overwrite is False, but these files already exist: {existing}")

    written: list[tuple[str, Path]] = []
    try:
        for path, members in by_file.items():
            hdul = _hdulist(full_header, wcs_header, arrays, members, path)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            written.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                hdul.writeto(f, output_verify="silentfix")
    except BaseException:
        for tmp, _ in written:
            os.unlink(tmp)
        raise
    for tmp, path in written:
        os.replace(tmp, path)
    return [path for _, path in written]


def _hdulist(full_header: Any, wcs_header: Any, arrays: dict, members: dict[str, Any],
             path: Path) -> Any:
    from astropy.io import fits

    if len(members) == 1:
        (plane, hdu), = members.items()
        if hdu in (0, None):
            header = _plane_header(full_header, wcs_header, plane)
            return fits.HDUList([fits.PrimaryHDU(data=arrays[plane], header=header)])
    numbered = all(isinstance(h, int | np.integer) for h in members.values())
    order = sorted(members, key=lambda p: members[p]) if numbered else list(members)
    if numbered:
        indices = [int(members[p]) for p in order]
        start = 0 if indices[0] == 0 else 1
        if indices != list(range(start, start + len(indices))):
            raise ValueError(f"HDUs {indices} of {path} leave gaps; use consecutive HDU numbers")
    hdus: list[Any] = []
    if not numbered or members[order[0]] != 0:
        primary = _plane_header(full_header, None, "data")
        hdus.append(fits.PrimaryHDU(header=primary))
    for plane in order:
        header = _plane_header(full_header, wcs_header, plane)
        if not hdus:
            hdus.append(fits.PrimaryHDU(data=arrays[plane], header=header))
            continue
        name = members[plane] if isinstance(members[plane], str) else _EXTNAME[plane]
        hdus.append(fits.ImageHDU(data=arrays[plane], header=header, name=name))
    return fits.HDUList(hdus)
