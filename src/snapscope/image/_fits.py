"""``FITSImage``: an image stored in FITS.

Three layouts (as snappl):

1. one multi-extension file, planes in HDUs ``imagehdu``/``noisehdu``/``flagshdu``;
2. three files (``noisepath``, ``flagspath``), or ``std_imagenames=True`` for
   ``{base}_image.fits``, ``{base}_noise.fits``, ``{base}_flags.fits`` (all HDU 0);
3. data only.

Differences from snappl, on purpose: a plane that would be the image HDU itself (snappl's default
``noisepath = imagepath`` with ``noisehdu = 0``) is treated as absent instead of returning the
data twice; ``save(which=…)`` writes only the planes asked for, noise and flags files get only WCS
keywords (not the full image header), multi-extension files can be written, and every write is
atomic (a temporary file renamed into place). Reading is lazy: header and shape never touch pixels,
planes are memory-mapped, and a file's headers and WCS are parsed once per process, however many
images of it are made (see :mod:`snapscope.image._fitscache`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from snapscope.exceptions import NoWCSError
from snapscope.image._base import check_which
from snapscope.image._fitscache import FitsFile
from snapscope.image._numpy import Numpy2DImage
from snapscope.image._scaled import ScaledPlane

__all__ = ["FITSImage", "strip_wcs_keywords"]

_WCS_KEY = re.compile(
    r"^(WCSAXES|CRVAL\d|CRPIX\d|CUNIT\d|CDELT\d|CTYPE\d|CROTA\d|CD\d_\d|PC\d_\d|PV\d_\d+|PS\d_\d+"
    r"|[AB]P?_\d+_\d+|[AB]P?_ORDER|[AB]P?_DMAX|LONPOLE|LATPOLE|RADESYS|EQUINOX|MJDREF|WCSNAME)$"
)
_STD_SUFFIX = {"data": "_image.fits", "noise": "_noise.fits", "flags": "_flags.fits"}


def strip_wcs_keywords(header: Any) -> Any:
    """Return a copy of ``header`` without WCS (and SIP/TPV distortion) keywords."""
    out = header.copy()
    for key in [k for k in out.keys() if _WCS_KEY.match(k)]:
        del out[key]
    return out


class FITSImage(Numpy2DImage):
    """An image in a FITS file (or three).

    Parameters
    ----------
    noisepath, flagspath : str or Path, optional
        Files of the noise and flags planes when they are separate files.
    imagehdu, noisehdu, flagshdu : int or str
        HDU index or EXTNAME of each plane.
    header : astropy.io.fits.Header, optional
        Use this header instead of reading the file's.
    wcs : snapscope.wcs.BaseWCS or astropy.wcs.WCS, optional
        Use this WCS instead of the header's.
    std_imagenames : bool
        ``full_filepath`` is a base name for ``_image/_noise/_flags.fits`` files.
    *args, **kwargs
        Passed to :class:`Numpy2DImage` / :class:`Image` (paths, header values, arrays).
    """

    _default_db_format = 10

    def __init__(self, *args: Any, noisepath: Any = None, flagspath: Any = None,
                 imagehdu: int | str = 0, noisehdu: int | str = 0, flagshdu: int | str = 0,
                 header: Any = None, std_imagenames: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if header is not None:
            from astropy.io import fits

            if not isinstance(header, fits.Header):
                raise TypeError(f"header must be an astropy.io.fits.Header, not {type(header).__name__}")
        if std_imagenames and (noisepath or flagspath or any((imagehdu, noisehdu, flagshdu))):
            raise ValueError("std_imagenames=True uses HDU 0 of _image/_noise/_flags.fits files; "
                             "do not also give noisepath, flagspath or non-zero HDUs")
        self._std_imagenames = std_imagenames
        self._imagehdu, self._noisehdu, self._flagshdu = imagehdu, noisehdu, flagshdu
        self._noisepath = None if noisepath is None else Path(noisepath).expanduser().resolve()
        self._flagspath = None if flagspath is None else Path(flagspath).expanduser().resolve()
        self._header = header
        self._files: dict[Path, FitsFile] = {}

    # paths ------------------------------------------------------------------
    def _plane_path(self, which: str) -> Path | None:
        base = self.full_filepath
        if base is None:
            return None
        if self._std_imagenames:
            return Path(str(base) + _STD_SUFFIX[which])
        explicit = {"data": None, "noise": self._noisepath, "flags": self._flagspath}[which]
        return explicit or base

    def _plane_hdu(self, which: str) -> int | str:
        return {"data": self._imagehdu, "noise": self._noisehdu, "flags": self._flagshdu}[which]

    def _has_plane_on_disk(self, which: str) -> bool:
        path = self._plane_path(which)
        if path is None:
            return False
        if which == "data":
            return True
        return (path, self._plane_hdu(which)) != (self._plane_path("data"), self._imagehdu)

    @property
    def imagepath(self) -> Path | None:
        """Path of the file holding the data plane."""
        return self._plane_path("data")

    @property
    def noisepath(self) -> Path | None:
        """Path of the file holding the noise plane (None when there is none)."""
        return self._plane_path("noise") if self._has_plane_on_disk("noise") else None

    @property
    def flagspath(self) -> Path | None:
        """Path of the file holding the flags plane (None when there is none)."""
        return self._plane_path("flags") if self._has_plane_on_disk("flags") else None

    @property
    def path(self) -> Path | None:
        """Path of the data file (kept for compatibility)."""
        return self.imagepath

    def _file(self, path: Path) -> FitsFile:
        if path not in self._files:
            self._files[path] = FitsFile(path)
        return self._files[path]

    # header and shape ---------------------------------------------------------
    def get_fits_header(self) -> Any:
        """Return the header of the data HDU (read once, without pixels, then cached)."""
        if self._header is None:
            factory = self.__dict__.get("_header_factory")
            if factory is not None:
                self._header = factory()
            else:
                self._header = self._read_header()
        return self._header

    def _read_header(self) -> Any:
        if self.imagepath is None or (self.__dict__.get("_data") is not None
                                      and not self.imagepath.exists()):
            from astropy.io import fits

            return fits.Header()
        header = self._file(self.imagepath).header(self._imagehdu)
        self._file_header = header
        return header

    def set_fits_header(self, header: Any) -> None:
        """Replace the in-memory header (the file is not changed)."""
        self._header = header

    def _get_image_shape(self) -> None:
        if self.__dict__.get("_data") is not None:
            self._height, self._width = self._data.shape
            return
        header = self.get_fits_header()
        if header.get("NAXIS", 0) < 2:
            from snapscope.exceptions import HDUError

            raise HDUError(f"HDU {self._imagehdu!r} of {self.imagepath} holds no 2-D image "
                           f"(NAXIS={header.get('NAXIS')})")
        self._width, self._height = int(header["NAXIS1"]), int(header["NAXIS2"])

    # WCS ----------------------------------------------------------------------
    def get_wcs(self, wcsclass: str | None = None) -> Any:
        """Return the WCS (default ``AstropyWCS`` from the header; ``"GalsimWCS"`` also works).

        The ``AstropyWCS`` of a header read from the file is built once per file and process
        (each image gets its own copy); changing that header in place afterwards does not
        change the WCS, giving a header with :meth:`set_fits_header` does.
        """
        if self._wcs is None and callable(self.__dict__.get("_wcs_factory")):
            self._wcs = self._wcs_factory()
        if wcsclass is None:
            if self._wcs is None:
                self._wcs = self._header_wcs("AstropyWCS")
            return self._wcs
        if self._wcs is not None and type(self._wcs).__name__ == wcsclass:
            return self._wcs
        if wcsclass not in ("AstropyWCS", "GalsimWCS"):
            raise TypeError(f"FITSImage doesn't know how to get a WCS of type {wcsclass}")
        if self._is_cutout:
            raise TypeError(f"a cutout can only give its {type(self.get_wcs()).__name__}")
        self._wcs = self._header_wcs(wcsclass)
        return self._wcs

    def _header_wcs(self, wcsclass: str) -> Any:
        from snapscope import wcs as wcsmod

        header = self.get_fits_header()
        if wcsclass == "AstropyWCS" and header is self.__dict__.get("_file_header"):
            return self._file(self.imagepath).wcs(self._imagehdu)
        return getattr(wcsmod, wcsclass).from_header(header)

    # pixels -------------------------------------------------------------------
    def get_data_view(self, which: str = "data") -> np.ndarray | ScaledPlane | None:
        """Return a plane without loading it: the in-memory array if set, else a memory map.

        A plane stored with BZERO/BSCALE/BLANK (e.g. uint32 flags stored as int32) is a
        :class:`~snapscope.image.ScaledPlane`: slicing it reads and scales only those pixels.
        """
        check_which(which)
        if which == "all":
            raise ValueError("get_data_view takes one plane: 'data', 'noise' or 'flags'")
        if not self._mapped(which):
            return self.__dict__.get("_" + which)
        return self._file(self._plane_path(which)).plane(self._plane_hdu(which))

    def _mapped(self, which: str) -> bool:
        """Whether plane ``which`` is read from its file (not held in memory, not a cutout's)."""
        return (self.__dict__.get("_" + which) is None and not self._is_cutout
                and self._has_plane_on_disk(which))

    def _pixel_file_key(self, which: str) -> tuple | None:
        """The version of the file this image reads (the one its memory map shows)."""
        return self._file(self._plane_path(which)).identity() if self._mapped(which) else None

    def _read_plane(self, which: str) -> np.ndarray | None:
        if not self._has_plane_on_disk(which):
            return None
        view = self._file(self._plane_path(which)).plane(self._plane_hdu(which))
        return np.array(view, dtype=view.dtype.newbyteorder("="))

    def free(self) -> None:
        """Drop loaded planes and forget which version of the files was read.

        Header and WCS are kept, and arrays handed out stay valid. The next read sees the
        files as they are then (the process-wide cache of open files keeps at most
        ``open_file_limit()`` files mapped).
        """
        super().free()
        for f in self._files.values():
            f.close()

    def _cutout_init_kwargs(self) -> dict[str, Any]:
        return {"full_filepath": self.full_filepath, "no_base_path": True,
                "imagehdu": self._imagehdu, "noisehdu": self._noisehdu, "flagshdu": self._flagshdu}

    # saving -------------------------------------------------------------------
    def _plane_for_saving(self, which: str) -> np.ndarray | None:
        held = self.__dict__.get("_" + which)
        if held is not None or self._is_cutout or not self._has_plane_on_disk(which):
            return held
        if not self._plane_path(which).exists():
            return None
        return self.get_data(which)[0]

    def save(self, which: str = "all", path: Any = None, imagepath: Any = None,
             noisepath: Any = None, flagspath: Any = None, imagehdu: Any = None,
             noisehdu: Any = None, flagshdu: Any = None, overwrite: bool = False) -> list[Path]:
        """Write planes to FITS; only the planes ``which`` names are written.

        Planes stored in one file under different HDUs (e.g. OU2024 SCI/ERR/DQ) are written as
        one multi-extension file. Files are written to a temporary name and renamed, so a failed
        save leaves the old file (or none) in place.

        Parameters
        ----------
        which : {'all', 'data', 'noise', 'flags'}
            Planes to write ('all': every plane the image has).
        path, imagepath : str or Path, optional
            Data file (default: the image's own path). ``path`` is a synonym.
        noisepath, flagspath : str or Path, optional
            Noise and flags files (default: the image's own).
        imagehdu, noisehdu, flagshdu : int, optional
            HDU indices in a multi-extension file (default: the image's own).
        overwrite : bool
            Replace existing files; otherwise an existing target raises FileExistsError.

        Returns
        -------
        list of Path
            The files written.
        """
        from snapscope.image._fitswrite import write_planes

        check_which(which)
        planes = ("data", "noise", "flags") if which == "all" else (which,)
        targets = {}
        given = {"data": imagepath or path, "noise": noisepath, "flags": flagspath}
        hdus = {"data": imagehdu, "noise": noisehdu, "flags": flagshdu}
        for plane in ("data", "noise", "flags"):
            dest = given[plane] or self._plane_path(plane)
            hdu = hdus[plane] if hdus[plane] is not None else self._plane_hdu(plane)
            targets[plane] = (None if dest is None else Path(dest), hdu)
        arrays = {p: self._plane_for_saving(p) for p in ("data", "noise", "flags")}
        try:
            wcs_header = self.get_wcs().to_fits_header()
        except NoWCSError:
            wcs_header = None
        written = write_planes(self.get_fits_header(), wcs_header, arrays, targets, planes,
                               overwrite=overwrite)
        for path in written:  # this image wrote them: reading them again is no version mix-up
            if path in self._files:
                self._files[path].close()
        return written


