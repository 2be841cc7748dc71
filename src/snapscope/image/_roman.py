"""``RomanDatamodelImage``: a Roman WFI level-2 image in an ASDF file (roman_datamodels).

Needs the ``roman`` extra (``pip install 'snapscope[roman]'``: roman_datamodels, gwcs, asdf),
imported only when an image is opened.

Differences from snappl 0.48, on purpose:

* **No CRDS.** snappl multiplies ``data`` and ``noise`` by the CRDS pixel-area reference map,
  which needs the network (offline it ends the process with ``SystemExit``). Here ``data`` and
  ``noise`` are the file's ``data`` and ``err`` arrays unchanged, in the file's units (snappl's
  ``sb_data``/``sb_noise``, which remain as aliases); a warning is logged once per process. The
  area map changes pixel values by ~0.5% (median) on a real Roman SCA, so photometry differs
  from snappl's by that much. :meth:`get_zeropoint` uses the nominal pixel area from
  ``meta.photometry`` exactly as snappl does.
* Planes load one at a time (``.flags`` first works; snappl raises TypeError), lazily through
  asdf: only the plane asked for is read, memory-mapped when its ASDF block is uncompressed
  (roman_datamodels compresses with lz4 by default; such a plane is decompressed once).
* Placeholder metadata (``'?'``, ``-999999``) reads as None.
* ``mjd`` is the middle of the exposure, ``(start_time + end_time) / 2`` (as snappl; OU2024
  FITS images give the start).
"""

from __future__ import annotations

import logging
import math
import os
import re
from typing import Any

import numpy as np

from snapscope._utils._optional import require
from snapscope.exceptions import ImageFileError, NoWCSError
from snapscope.image._base import Image, check_which
from snapscope.image._numpy import validate_plane
from snapscope.image._pixels import file_identity

__all__ = ["RomanDatamodelImage"]

log = logging.getLogger("snapscope")

_PURPOSE = "reading Roman ASDF images (RomanDatamodelImage)"
_FILE_ARRAYS = {"data": "data", "noise": "err", "flags": "dq"}
_DETECTOR = re.compile(r"^WFI(\d{2})$")
_PLACEHOLDERS = ("?", "", -999999, -999999.0)
_WCS_NAMES = (None, "GWCS", "RDM_GWCS")
_units_warned = False


def _known(value: Any) -> Any:
    """None for roman_datamodels' placeholders of unknown values, else the value."""
    if value is None or (isinstance(value, str | int | float) and value in _PLACEHOLDERS):
        return None
    return value


def _warn_units_once() -> None:
    global _units_warned
    if not _units_warned:
        _units_warned = True
        log.warning(
            "RomanDatamodelImage: data and noise are in the file's units; snapscope does not "
            "apply the CRDS pixel-area map (snappl does, over the network)."
        )


class RomanDatamodelImage(Image):
    """A Roman level-2 (calibrated) image in an ASDF file, read with roman_datamodels.

    ``data``/``noise``/``flags`` are the file's ``data``/``err``/``dq`` arrays (see the module
    notes on units), read lazily one plane at a time. Header values come from ``meta``:
    ``observation_id`` (``meta.observation.observation_id``), ``sca`` (from
    ``meta.instrument.detector``, e.g. ``'WFI07'`` → 7), ``band``
    (``meta.instrument.optical_element``, e.g. ``'F106'``), ``mjd`` (middle of the exposure),
    ``exptime`` (``meta.exposure.exposure_time``), ``sky_level``
    (``meta.statistics.image_median`` when present); ``ra``/``dec`` and the corners come from
    the WCS, ``meta.wcs`` (a :class:`snapscope.wcs.GWCS`).

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`~snapscope.image.Image` (paths, ids, ``format``, header values).
    """

    _default_db_format = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._data = self._noise = self._flags = None
        self._dm: Any = None
        self._fits_view: Image | None = None  # this image as a FITSImage, for cutouts

    # ------------------------------------------------------------------ file
    @property
    def dm(self) -> Any:
        """The open ``roman_datamodels`` model of the file (opened on first use, read-only)."""
        if self._dm is None:
            rdm = require("roman_datamodels", purpose=_PURPOSE)
            path = self.full_filepath
            if path is None:
                raise ImageFileError(f"{type(self).__name__} has no file to read")
            if not path.is_file():
                raise ImageFileError(f"No such Roman ASDF file: {path}")
            try:
                self._dm = rdm.open(path, memmap=True)
            except (ValueError, TypeError, OSError) as err:
                raise ImageFileError(f"{path} is not a Roman data-model ASDF file: {err}") from err
            _warn_units_once()
        return self._dm

    @property
    def meta(self) -> Any:
        """The file's ``meta`` tree (a roman_datamodels node)."""
        return self.dm.meta

    # --------------------------------------------------------- header values
    def _get_internal_attribute(self, name: str) -> None:
        self.__dict__["_" + name] = self._meta_value(name)

    def _meta_value(self, name: str) -> Any:
        meta = self.meta
        if name == "observation_id":
            return _known(meta.observation.get("observation_id"))
        if name == "sca":
            match = _DETECTOR.match(str(meta.instrument.get("detector", "")))
            return int(match.group(1)) if match else None
        if name == "band":
            return _known(meta.instrument.get("optical_element"))
        if name == "mjd":
            return (meta.exposure.start_time.mjd + meta.exposure.end_time.mjd) / 2
        if name == "exptime":
            value = _known(meta.exposure.get("exposure_time"))
            return None if value is None else float(value)
        if name == "sky_level":
            stats = meta.get("statistics")
            value = None if stats is None else _known(stats.get("image_median"))
            return None if value is None else float(value)
        return None

    def _get_image_shape(self) -> None:
        if self.__dict__.get("_data") is not None:
            self._height, self._width = self._data.shape
            return
        self._height, self._width = (int(n) for n in self.dm.data.shape)

    def _compute_zeropoint(self) -> float:
        """``-6.1 - 2.5 log10(conversion_megajanskys * pixel_area)`` (AB; as snappl)."""
        phot = self.meta.get("photometry", {})
        conversion = _known(phot.get("conversion_megajanskys"))
        area = _known(phot.get("pixel_area"))
        if conversion is None or area is None or not conversion * area > 0:
            raise ValueError(
                f"{self.full_filepath} has no usable meta.photometry (conversion_megajanskys="
                f"{conversion}, pixel_area={area}), so its zeropoint is unknown"
            )
        return -6.1 - 2.5 * math.log10(float(conversion) * float(area))

    # ---------------------------------------------------------------- pixels
    def _plane(self, which: str) -> np.ndarray | None:
        held = self.__dict__.get("_" + which)
        if held is None and not self._is_cutout:
            held = self.get_data(which, cache=True)[0]
        return held

    def _set_plane(self, which: str, value: Any) -> None:
        self.__dict__["_" + which] = validate_plane(which, value)
        self._fits_view = None

    data = property(
        lambda self: self._plane("data"),
        lambda self, v: self._set_plane("data", v),
        doc="The image data (the file's ``data`` array, native-endian, loaded on first use).",
    )
    noise = property(
        lambda self: self._plane("noise"),
        lambda self, v: self._set_plane("noise", v),
        doc="The 1σ noise (the file's ``err`` array, loaded on first use).",
    )
    flags = property(
        lambda self: self._plane("flags"),
        lambda self, v: self._set_plane("flags", v),
        doc="The data-quality flags (the file's ``dq`` array, loaded on first use).",
    )
    sb_data = property(lambda self: self.data, doc="snappl's name for the file's data (= data).")
    sb_noise = property(lambda self: self.noise, doc="snappl's name for the file's err (= noise).")

    def get_data_view(self, which: str = "data") -> np.ndarray | None:
        """Return a plane without copying it: the in-memory array if set, else asdf's array.

        asdf reads only this plane, memory-mapped when its block is uncompressed (otherwise it
        is decompressed once and kept until :meth:`free`). Treat the result as read-only.
        """
        check_which(which)
        if which == "all":
            raise ValueError("get_data_view takes one plane: 'data', 'noise' or 'flags'")
        if self._in_memory(which):
            return self.__dict__.get("_" + which)
        array = getattr(self.dm, _FILE_ARRAYS[which], None)
        return None if array is None else np.asarray(array)

    def _in_memory(self, which: str) -> bool:
        """Whether plane ``which`` is held in memory (set, loaded, or a cutout's), not asdf's."""
        return self.__dict__.get("_" + which) is not None or self._is_cutout

    def _pixel_file_key(self, which: str) -> tuple | None:
        """The file's version when plane ``which`` is asdf's array (None when held in memory)."""
        if self._in_memory(which):
            return None
        try:
            return file_identity(os.stat(self.full_filepath))
        except OSError:
            return None

    def _read_plane(self, which: str) -> np.ndarray | None:
        array = getattr(self.dm, _FILE_ARRAYS[which], None)
        if array is None:
            return None
        view = np.asarray(array)
        return np.array(view, dtype=view.dtype.newbyteorder("="))

    def free(self) -> None:
        """Drop loaded planes and close the file (header values and WCS are kept)."""
        self._data = self._noise = self._flags = None
        self._fits_view = None
        if self._dm is not None:
            self._dm.close()
            self._dm = None

    # ------------------------------------------------------------------- WCS
    def get_wcs(self, wcsclass: str | None = None) -> Any:
        """Return the file's ``meta.wcs`` as a :class:`snapscope.wcs.GWCS` (cached).

        Parameters
        ----------
        wcsclass : {None, 'GWCS', 'RDM_GWCS'}
            The only WCS class available (snappl's names).

        A WCS without a bounding box gets the image's footprint as one (the SIP approximation
        of ``get_astropy_wcs()`` needs it; the transforms ignore it).

        Raises
        ------
        NoWCSError
            If the file has no ``meta.wcs``.
        """
        if wcsclass not in _WCS_NAMES:
            raise TypeError(f"RomanDatamodelImage doesn't know how to get a WCS of type {wcsclass}")
        if self._wcs is None and callable(self.__dict__.get("_wcs_factory")):
            self._wcs = self._wcs_factory()
        if self._wcs is None:
            from snapscope.wcs import GWCS

            gwcs = self.meta.get("wcs")
            if gwcs is None:
                raise NoWCSError(f"{self.full_filepath} has no meta.wcs")
            if gwcs.bounding_box is None:  # the SIP fit of get_astropy_wcs() needs one
                gwcs.bounding_box = ((-0.5, self.width - 0.5), (-0.5, self.height - 0.5))
            self._wcs = GWCS(gwcs)
        return self._wcs

    # --------------------------------------------------------------- cutouts
    def get_cutout(
        self,
        x: Any,
        y: Any,
        xsize: int,
        ysize: int | None = None,
        mode: str = "strict",
        fill_value: float = np.nan,
        return_FITS: bool = True,  # noqa: N803  (snappl's argument name)
    ) -> Image:
        """Cut out ``ysize × xsize`` pixels centred on pixel (x, y) (0-origin, ``data[y, x]``).

        Only the rows of the cutout are read (from asdf's array of each plane).

        Parameters
        ----------
        x, y : int or float
            Centre pixel; a non-integer value is taken to the nearest pixel, ``floor(v + 0.5)``.
        xsize : int
            Width in pixels (odd).
        ysize : int, optional
            Height in pixels (odd; default ``xsize``).
        mode : {'strict', 'partial'}
            As ``astropy.nddata.Cutout2D``; 'partial' fills missing pixels with ``fill_value``
            (flags with 1).
        fill_value : float
            Value of data and noise pixels off the image in 'partial' mode.
        return_FITS : bool
            True (default, as snappl): a :class:`~snapscope.image.FITSImage` whose WCS is the
            degree-5 SIP approximation of the GWCS (``GWCS.get_astropy_wcs()``), with a FITS
            header. False: a RomanDatamodelImage whose WCS is the exact GWCS, shifted.

        Returns
        -------
        Image

        Raises
        ------
        snapscope.exceptions.OutsideImageError
            If the cutout does not touch the image (both modes); it is also an
            ``astropy.nddata.NoOverlapError``, as ``Cutout2D`` raises.
        astropy.nddata.PartialOverlapError
            If ``mode='strict'`` and the cutout is not entirely on the image, as ``Cutout2D``.
        """
        from snapscope.image._cutout import make_cutout

        if return_FITS and self._fits_view is None:
            self._fits_view = self._as_fits_image()
        source = self._fits_view if return_FITS else self
        return make_cutout(source, x, y, xsize, ysize, mode=mode, fill_value=fill_value)

    def _cutout_init_kwargs(self) -> dict[str, Any]:
        return {"full_filepath": self.full_filepath, "no_base_path": True}

    def _as_fits_image(self) -> Image:
        """Return this image as an in-memory FITSImage with a SIP WCS and header (no copies)."""
        from astropy.io import fits

        from snapscope.image._fits import FITSImage
        from snapscope.wcs import AstropyWCS

        try:
            apwcs = self.get_wcs().get_astropy_wcs()
        except NoWCSError:
            apwcs = None
        header = fits.Header() if apwcs is None else apwcs.to_header(relax=True)
        header["NAXIS"], header["NAXIS1"], header["NAXIS2"] = 2, self.width, self.height
        values = {
            name: getattr(self, name)
            for name in ("observation_id", "sca", "band", "mjd", "exptime", "sky_level")
        }
        try:
            zeropoint = self.get_zeropoint()
        except ValueError:
            zeropoint = None
        planes = {which: self.get_data_view(which) for which in ("data", "noise", "flags")}
        return FITSImage(
            no_base_path=True,
            header=header,
            wcs=None if apwcs is None else AstropyWCS(apwcs),
            zeropoint=zeropoint,
            width=self.width,
            height=self.height,
            **planes,
            **values,
        )
