"""Hand-made FITS files for tests: OU2024 layout, a chosen WCS (TAN or TAN-SIP), injected sources.

Independent of snapscope (astropy only), so tests compare snapscope with a truth built here.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

PIXSCALE = 0.11 / 3600.0  # degrees per pixel (Roman)


def make_wcs(shape, ra=7.55, dec=-44.8, rot_deg=20.0, sip=False, pixscale=PIXSCALE):
    """A TAN (or TAN-SIP) WCS with the reference pixel at the array centre."""
    ny, nx = shape
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"] if sip else ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra % 360.0, dec]
    w.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    t = np.radians(rot_deg)
    w.wcs.cd = pixscale * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    w.wcs.radesys = "ICRS"
    w.pixel_shape = (nx, ny)
    if sip:
        from astropy.wcs import Sip

        a = np.zeros((4, 4))
        b = np.zeros((4, 4))
        a[2, 0], a[0, 2], a[3, 0] = 2e-6, -1.5e-6, 3e-10
        b[1, 1], b[0, 2], b[0, 3] = 1.2e-6, 2.5e-6, -2e-10
        w.sip = Sip(a, b, None, None, w.wcs.crpix)
    return w


def gaussian_sources(shape, xs, ys, fluxes, sigma=1.2):
    """Image of circular Gaussians (integrated over pixels by 5×5 sub-sampling)."""
    ny, nx = shape
    out = np.zeros(shape)
    sub = (np.arange(5) - 2) / 5.0
    yy, xx = np.mgrid[0:ny, 0:nx]
    for x0, y0, f in zip(xs, ys, fluxes, strict=True):
        acc = np.zeros(shape)
        for dy in sub:
            for dx in sub:
                acc += np.exp(-((xx + dx - x0) ** 2 + (yy + dy - y0) ** 2) / (2 * sigma**2))
        out += f * acc / acc.sum() if acc.sum() > 0 else 0
    return out


def make_ou2024_file(directory, *, shape=(128, 96), band="Y106", pointing=123, sca=3, mjd=62470.5,
                     ra=7.55, dec=-44.8, rot_deg=20.0, sip=False, sky=100.0, noise=5.0, seed=1,
                     sources=(), gz=False, dq_bits=None, sci_dtype="f4"):
    """Write an OU2024-layout file; return (path, truth dict with arrays and WCS)."""
    rng = np.random.default_rng(seed)
    w = make_wcs(shape, ra, dec, rot_deg, sip)
    header = w.to_header(relax=True)
    header.update({"FILTER": band, "SCA_NUM": sca, "MJD-OBS": mjd, "EXPTIME": 302.275,
                   "SKY_MEAN": sky, "RA_TARG": ra % 360.0, "DEC_TARG": dec, "ZPTMAG": 17.6,
                   "BUNIT": "electron"})
    model = np.full(shape, sky)
    if sources:
        xs, ys, fl = zip(*sources, strict=True)
        model += gaussian_sources(shape, xs, ys, fl)
    sci = (model + rng.normal(0, noise, shape)).astype(sci_dtype)
    err = np.full(shape, noise, dtype="f4")
    dq = np.zeros(shape, dtype="u4")
    for (y, x), bits in (dq_bits or {}).items():
        dq[y, x] = bits
    hdul = fits.HDUList([fits.PrimaryHDU(header=header), fits.ImageHDU(sci, header, name="SCI"),
                         fits.ImageHDU(err, header, name="ERR"), fits.ImageHDU(dq, header, name="DQ")])
    path = Path(directory) / f"Roman_TDS_simple_model_{band}_{pointing}_{sca}.fits"
    hdul.writeto(path, overwrite=True)
    if gz:
        with open(path, "rb") as src, gzip.open(str(path) + ".gz", "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst)
        path.unlink()
        path = Path(str(path) + ".gz")
    return path, {"sci": sci, "err": err, "dq": dq, "wcs": w, "header": header}
