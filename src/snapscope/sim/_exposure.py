"""One simulated exposure: :func:`make_exposure` and the machinery :func:`make_survey` shares.

An exposure is fully described by an :class:`ExposureSpec`; :func:`simulate` turns a spec into
files and returns its manifest entry, so a survey can hand specs to worker processes and get
byte-identical results whichever process runs them. Steps: pointing and WCS (``_pointing``),
scale and sky (``_header``), the sources of the static sky near the image (``_catalog``), drawn
with the ePSF (``_draw``, ``_psf``), the SN, noise and flags (``_noise``), files (``_write``).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

from snapscope.roman import SCA_PIXELS, check_band
from snapscope.sim._catalog import (
    GALAXY_DENSITY,
    HOST,
    HOSTED_SN_ID,
    Catalog,
    Scene,
    check_hosted,
    default_star_density,
    hosted_positions,
    truth_table,
)
from snapscope.sim._draw import MAX_HALF, draw_catalog, draw_point, stamp_half_size
from snapscope.sim._header import PRIMARY_KEYS, exposure_scale, image_cards
from snapscope.sim._lightcurve import SN_DEC, SN_RA, sn_magnitude
from snapscope.sim._noise import add_noise, detector_defects
from snapscope.sim._pointing import (
    Pointing,
    default_pointing,
    default_roll,
    galsim,
    ou2024_pointing,
    synthetic_pointing,
)
from snapscope.sim._psf import BOX, epsf, write_epsf
from snapscope.sim._write import (
    exposure_filename,
    truth_filename,
    write_exposure_fits,
    write_table,
)

__all__ = ["ExposureSpec", "make_exposure", "make_spec", "simulate", "exposure_cells",
           "FORMAT_VERSION"]

#: Bumped whenever the simulator's output for given parameters changes (invalidates old files).
FORMAT_VERSION = 1
#: Margin (arcsec) around an image within which sources are generated (largest galaxy stamp).
_CELL_MARGIN = MAX_HALF * 0.11


@dataclasses.dataclass(frozen=True)
class ExposureSpec:
    """Everything that determines one exposure (see :func:`make_exposure` for the meanings)."""

    band: str
    mjd: float
    size: int
    sca: int
    pointing: int
    ra: float
    dec: float
    pa: float
    seed: int
    scene_seed: int
    host: bool
    sn: bool
    cr_rate: float
    gzip: bool
    star_density: float
    galaxy_density: float
    visit: int | None = None
    hosted: tuple[tuple[float, float], ...] = ()

    def params(self) -> dict[str, Any]:
        """Return the spec as JSON-able values, plus the output format version.

        ``hosted`` appears only when there are hosted supernovae, so the manifests of surveys
        without them are unchanged.
        """
        params = {**dataclasses.asdict(self), "format": FORMAT_VERSION}
        hosted = params.pop("hosted")
        return {**params, "hosted": [list(h) for h in hosted]} if hosted else params

    @property
    def filename(self) -> str:
        """Name of the image file."""
        return exposure_filename(self.band, self.pointing, self.sca, self.gzip)

    def geometry(self) -> Pointing:
        """Return the exposure's pointing (boresight, roll, sub-array)."""
        if self.visit is not None:
            return ou2024_pointing(self.visit, self.band, size=self.size, ra=self.ra,
                                   dec=self.dec)[0]
        rng = np.random.default_rng([self.seed, 0xD17E])
        return synthetic_pointing(self.ra, self.dec, mjd=self.mjd, sca=self.sca, size=self.size,
                                  pa=self.pa, rng=rng)

    def scene(self) -> Scene:
        """Return the static sky this exposure sees."""
        return Scene(self.ra, self.dec, self.scene_seed, self.star_density, self.galaxy_density)


def _checked(value: Any, name: str, kind: type, low: float | None = None,
             high: float | None = None) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if kind is int and value != int(value):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    value = kind(value)
    too_low = low is not None and value < low
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, not {value!r}")
    return value


def make_spec(*, band: str, mjd: float, size: int, sca: int, pointing: int | None,
              ra: float | None, dec: float | None, pa: float | None, seed: int,
              scene_seed: int | None, host: bool, sn: bool, cr_rate: float, gzip: bool,
              star_density: float | None, galaxy_density: float | None,
              visit: int | None = None, hosted: Any = ()) -> ExposureSpec:
    """Validate the arguments of :func:`make_exposure` and resolve their defaults."""
    check_band(band)
    mjd = _checked(mjd, "mjd", float)
    seed = _checked(seed, "seed", int, 0)
    ra = SN_RA if ra is None else _checked(ra, "ra", float) % 360.0
    dec = SN_DEC if dec is None else _checked(dec, "dec", float, -90.0, 90.0)
    if star_density is None:
        star_density = default_star_density(ra, dec)
    if galaxy_density is None:
        galaxy_density = GALAXY_DENSITY
    scene_seed = seed if scene_seed is None else _checked(scene_seed, "scene_seed", int, 0)
    return ExposureSpec(
        band=band, mjd=mjd, size=_checked(size, "size", int, 1, SCA_PIXELS),
        sca=_checked(sca, "sca", int, 1, 18),
        pointing=(default_pointing(mjd, band) if pointing is None
                  else _checked(pointing, "pointing", int, 0)),
        ra=ra, dec=dec, pa=default_roll(mjd) if pa is None else _checked(pa, "pa", float) % 360.0,
        seed=seed, scene_seed=scene_seed,
        host=bool(host), sn=bool(sn), cr_rate=_checked(cr_rate, "cr_rate", float, 0),
        gzip=bool(gzip), star_density=_checked(star_density, "star_density", float, 0),
        galaxy_density=_checked(galaxy_density, "galaxy_density", float, 0), visit=visit,
        hosted=check_hosted(hosted))


def make_exposure(path_dir: str | Path, *, band: str = "Y106", mjd: float = 62472.0,
                  size: int = 512, sca: int = 1, pointing: int | None = None,
                  ra: float | None = None, dec: float | None = None, pa: float | None = None,
                  seed: int = 42, host: bool = True, sn: bool = True, cr_rate: float = 1.0,
                  gzip: bool = False, star_density: float | None = None,
                  galaxy_density: float | None = None,
                  scene_seed: int | None = None, hosted: Any = ()) -> dict[str, Any]:
    """Simulate one Roman exposure and write it, its truth table and its ePSF to ``path_dir``.

    Writes ``Roman_TDS_simple_model_{band}_{pointing}_{sca}.fits[.gz]`` (OU2024 layout: empty
    primary HDU, then SCI, ERR and DQ), ``Roman_TDS_index_{band}_{pointing}_{sca}.ecsv`` and
    ``epsf_{band}_{sca}.fits``; it does not touch ``manifest.json`` (that is
    :func:`make_survey`'s). Same arguments, same files, byte for byte.

    Parameters
    ----------
    path_dir : str or Path
        Output directory (created if needed).
    band : str
        Roman band (R062 Z087 Y106 J129 H158 F184 K213 W146).
    mjd : float
        Start of the exposure.
    size : int
        Image side, 1–4088 pixels (a sub-array of the SCA).
    sca : int
        Detector, 1–18.
    pointing : int, optional
        Visit number used in the file name; default ``round(100·mjd)·10 + band digit``.
    ra, dec : float, optional
        Field centre in degrees, where the SN sits (default: the OU2024 SN 20172782 position).
        Any position works, including RA≈0/360 and the poles.
    pa : float, optional
        Roll: position angle of the focal plane at the field (deg); default follows OU2024's
        roll law for ``mjd``. The header's ``PA_FPA`` is the roll at the boresight.
    seed : int
        Seed of the dither, noise and cosmic rays (and of the sky when ``scene_seed`` is None).
    host : bool
        Draw the SN's host galaxy.
    sn : bool
        Draw the supernova.
    cr_rate : float
        Cosmic-ray rate relative to 1 cm⁻² s⁻¹ (0: none).
    gzip : bool
        Write ``.fits.gz``.
    star_density, galaxy_density : float, optional
        Sources per deg² (defaults: OU2024's, stars scaled with galactic latitude).
    scene_seed : int, optional
        Seed of the static sky (stars, galaxies, host); default ``seed``. Exposures of the same
        field with the same scene seed see the same objects.
    hosted : sequence of (float, float)
        One more supernova per ``(host_mag, offset)`` pair: the host galaxy's Y106 AB magnitude
        and the SN's offset from the host centre (arcsec); see ``snapscope.sim._catalog``. The
        SNe follow the main SN's light curve; they are drawn even when ``sn`` is False.

    Returns
    -------
    dict
        The manifest entry: ``path`` (absolute), ``band``, ``mjd``, ``pointing``, ``sca``,
        ``size``, ``sn_x``/``sn_y`` (0-based pixel of the SN, or of where it would be),
        ``sn_flux`` (e⁻), ``sn_mag`` (AB; None without SN light), ``zp_ab``, ``sky`` (e⁻/pixel),
        ``seed``, ``ra``/``dec`` (field centre), plus ``truth_path``, ``epsf_path``, ``pa``
        (``PA_FPA``), ``ra_targ``, ``dec_targ``, ``x0``/``y0`` (SCA offset), ``exptime``,
        ``host``, ``sn``, ``gzip`` and ``params`` (the full specification); with hosted
        supernovae also ``hosted``: one dict per SN with ``id ra dec x y flux mag host_mag
        host_offset`` (x, y 0-based image pixels, flux e⁻, mag AB or None).
    """
    spec = make_spec(band=band, mjd=mjd, size=size, sca=sca, pointing=pointing, ra=ra, dec=dec,
                     pa=pa, seed=seed, scene_seed=scene_seed, host=host, sn=sn, cr_rate=cr_rate,
                     gzip=gzip, star_density=star_density, galaxy_density=galaxy_density,
                     hosted=hosted)
    return simulate(spec, Path(path_dir))


def exposure_cells(spec: ExposureSpec, pointing: Pointing | None = None) -> list[tuple[int, int]]:
    """Return the scene cells an exposure draws from (footprint plus the largest stamp)."""
    pointing = pointing or spec.geometry()
    b = pointing.bounds
    t = np.linspace(0.0, 1.0, 9)
    x = np.concatenate([b.xmin - 0.5 + t * (b.xmax - b.xmin + 1), np.full(9, b.xmin - 0.5),
                        b.xmin - 0.5 + t * (b.xmax - b.xmin + 1), np.full(9, b.xmax + 0.5)])
    y = np.concatenate([np.full(9, b.ymin - 0.5), b.ymin - 0.5 + t * (b.ymax - b.ymin + 1),
                        np.full(9, b.ymax + 0.5), b.ymin - 0.5 + t * (b.ymax - b.ymin + 1)])
    ra, dec = pointing.sca_wcs().xyToradec(x, y, units="deg")
    return spec.scene().cells_covering(ra, dec, _CELL_MARGIN)


def _sources(spec: ExposureSpec, pointing: Pointing, wcs: Any, zp_ab: float
             ) -> tuple[Catalog, np.ndarray, np.ndarray, np.ndarray]:
    """Return the sources whose stamps reach the image: catalogue, SCA x/y (1-based), flux."""
    scene = spec.scene()
    parts = [scene.sources(exposure_cells(spec, pointing))] + ([scene.host()] if spec.host else [])
    parts += [scene.hosted(spec.hosted)] if spec.hosted else []
    cat = Catalog.concatenate(parts)
    x, y = (np.asarray(v, dtype=float) for v in wcs.radecToxy(cat.ra, cat.dec, units="deg"))
    flux = 10.0 ** (-0.4 * (cat.magnitude(spec.band) - zp_ab))
    b = pointing.bounds
    scale = math.sqrt(wcs.local(b.true_center).pixelArea())
    reach = stamp_half_size(flux) + np.ceil(5.0 * cat.hlr / scale)
    reach = np.where(cat.kind == HOST, np.maximum(reach, BOX // 2), np.minimum(reach, MAX_HALF))
    keep = ((x + reach >= b.xmin - 0.5) & (x - reach <= b.xmax + 0.5)
            & (y + reach >= b.ymin - 0.5) & (y - reach <= b.ymax + 0.5))
    return cat.take(keep), x[keep], y[keep], flux[keep]


def simulate(spec: ExposureSpec, outdir: Path) -> dict[str, Any]:
    """Simulate ``spec`` into ``outdir`` and return its manifest entry (see make_exposure)."""
    outdir.mkdir(parents=True, exist_ok=True)
    pointing = spec.geometry()
    wcs, bounds = pointing.sca_wcs(), pointing.bounds
    scale = exposure_scale(spec.band, pointing, wcs)
    cat, x, y, flux = _sources(spec, pointing, wcs, scale.zp_ab)

    psf = epsf(spec.band, pointing.sca)
    model = galsim.ImageD(bounds, init_value=0.0)
    draw_catalog(model, cat, x, y, flux, psf, wcs.local(bounds.true_center))
    sn_x, sn_y = wcs.radecToxy(spec.ra, spec.dec, units="deg")
    light_mag = sn_magnitude(spec.band, pointing.mjd)  # inf before the explosion
    transient_flux = 10.0 ** (-0.4 * (light_mag - scale.zp_ab)) if math.isfinite(light_mag) else 0.0
    sn_mag, sn_flux = (light_mag, transient_flux) if spec.sn else (math.inf, 0.0)
    draw_point(model, psf, sn_x, sn_y, sn_flux)
    hosted_ra, hosted_dec = hosted_positions(spec.ra, spec.dec, len(spec.hosted))
    hosted_x, hosted_y = (np.atleast_1d(np.asarray(v, dtype=float)) for v in
                          wcs.radecToxy(hosted_ra, hosted_dec, units="deg"))
    for hx, hy in zip(hosted_x, hosted_y, strict=True):
        draw_point(model, psf, hx, hy, transient_flux)

    defects = detector_defects(pointing.sca).in_image(pointing.x0, pointing.y0, spec.size)
    sci, err, dq = add_noise(np.clip(model.array, 0.0, None), sky=scale.sky,
                             exptime=scale.exptime, defects=defects, seed=spec.seed,
                             cr_rate=spec.cr_rate)
    cards = image_cards(band=spec.band, number=spec.pointing, pointing=pointing, wcs=wcs,
                        scale=scale, seed=spec.seed, scene_seed=spec.scene_seed)
    path = outdir / spec.filename
    write_exposure_fits(path, sci, err, dq, cards, [c for c in cards if c[0] in PRIMARY_KEYS],
                        spec.gzip)

    dx, dy = pointing.x0 + 1, pointing.y0 + 1  # 1-based SCA pixel -> 0-based image pixel
    sn_row = (spec.ra, spec.dec, sn_x - dx, sn_y - dy, sn_flux) if spec.sn else None
    hosted_rows = [(HOSTED_SN_ID + k, float(hosted_ra[k]), float(hosted_dec[k]),
                    float(hosted_x[k] - dx), float(hosted_y[k] - dy), float(transient_flux))
                   for k in range(len(spec.hosted))]
    meta = {"band": spec.band, "pointing": spec.pointing, "sca": pointing.sca,
            "mjd": pointing.mjd, "zp_ab": scale.zp_ab, "ou2024_visit": spec.visit}
    truth_path = outdir / truth_filename(spec.band, spec.pointing, pointing.sca)
    write_table(truth_path, truth_table(cat, x - dx, y - dy, flux, scale.zp_ab, meta, sn_row,
                                        hosted_rows))
    epsf_path = outdir / f"epsf_{spec.band}_{pointing.sca}.fits"
    write_epsf(epsf_path, psf)
    entry = {
        "path": str(path.resolve()), "band": spec.band, "mjd": pointing.mjd,
        "pointing": spec.pointing, "sca": pointing.sca, "size": spec.size,
        "sn_x": float(sn_x - dx), "sn_y": float(sn_y - dy), "sn_flux": float(sn_flux),
        "sn_mag": float(sn_mag) if math.isfinite(sn_mag) else None, "zp_ab": scale.zp_ab,
        "sky": scale.sky, "seed": spec.seed, "ra": spec.ra, "dec": spec.dec,
        "truth_path": str(truth_path.resolve()), "epsf_path": str(epsf_path.resolve()),
        "pa": pointing.pa_fpa, "ra_targ": pointing.ra_targ, "dec_targ": pointing.dec_targ,
        "x0": pointing.x0, "y0": pointing.y0, "exptime": scale.exptime, "host": spec.host,
        "sn": spec.sn, "gzip": spec.gzip, "params": spec.params(),
    }
    if spec.hosted:
        entry["hosted"] = [
            {"id": sn_id, "ra": sra, "dec": sdec, "x": sx, "y": sy, "flux": sflux,
             "mag": float(light_mag) if math.isfinite(light_mag) else None,
             "host_mag": host_mag, "host_offset": offset}
            for (sn_id, sra, sdec, sx, sy, sflux), (host_mag, offset)
            in zip(hosted_rows, spec.hosted, strict=True)]
    return entry
