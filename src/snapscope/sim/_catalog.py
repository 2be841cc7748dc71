"""The static sky: stars, galaxies and the SN host, in RA/Dec, the same for every exposure.

Decisions
---------
* **One sky for all epochs.** Sources are generated in 60″ cells of the tangent plane at the
  field centre; each cell draws its sources from its own random stream (scene seed and cell
  index), so any exposure, whatever its pointing, roll or size, sees exactly the same objects,
  and only the cells an exposure touches are ever generated. The count in a cell is Poisson.
* **Densities** (per deg², calibrated on an OU2024 Y106 SCA: about 190 stars with AB 15–26.5
  and about 5,400 galaxies with AB 18–27 on 0.0156 deg²):
  galaxies 3.46e5 /deg²; stars 1.22e4 /deg² at the SN field's galactic latitude
  (b = −71.8°), scaled as 1/sin|b| elsewhere (|b| floored at 10°). Explicit
  ``star_density``/``galaxy_density`` arguments are used as given.
* **Magnitudes** (Y106 AB): stars dN/dm ∝ 10^(0.1 m) on 15–26.5, galaxies ∝ 10^(0.25 m) on
  18–27. Colours: Y106−H158 uniform 0–0.6 for stars, N(0.35, 0.1) for galaxies, and other bands
  linear in effective wavelength (so Y−J is about half of Y−H).
* **Galaxies**: exponential disk plus de Vaucouleurs bulge (bulge fraction ~ Beta(1, 3), bulge
  half-light radius half the disk's, truncated at 5 of its half-light radii), one axis ratio
  (uniform 0.3–1) and orientation; disk half-light radius 0.35″·10^(−0.15(m−23)) with 0.15 dex
  scatter, clipped to 0.05–4″.
* **Host**: an exponential disk (Y106 = 22.0, Y−H = 0.35, half-light radius 0.6″) 0.45″ from
  the SN in a direction, axis ratio and orientation drawn from the scene seed.
* **Hosted supernovae** (``hosted=[(host_mag, offset), ...]``, for difference imaging): one
  extra supernova per pair, on a ring of radius :data:`HOSTED_RING` around the field centre at
  evenly spaced angles (the first due north, then counter-clockwise, i.e. through east), each
  on its own bright host: an exponential disk of Y106 = ``host_mag`` (Y−H = 0.35, half-light
  radius 0.6″) whose centre is ``offset`` arcsec from its SN, in a direction, axis ratio and
  orientation drawn from the scene seed and the SN's index. Ids: SN ``HOSTED_SN_ID + k``, host
  ``1_000_000_000 +`` that. With no pairs nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from snapscope._utils import _tangent as tangent
from snapscope.roman import EFFECTIVE_WAVELENGTH, PIXEL_SCALE, SCA_PIXELS
from snapscope.sim._lightcurve import SN_DEC, SN_ID, SN_RA

__all__ = [
    "CELL",
    "HOST_ID",
    "HOSTED_RING",
    "HOSTED_SN_ID",
    "check_hosted",
    "hosted_positions",
    "Catalog",
    "Scene",
    "default_star_density",
    "GALAXY_DENSITY",
    "gnomonic",
    "truth_table",
]

#: Cell side (arcsec) of the source grid.
CELL = 60.0
_SCA_AREA = (SCA_PIXELS * PIXEL_SCALE / 3600.0) ** 2
#: Galaxies per deg² (AB 18–27 in Y106).
GALAXY_DENSITY = 5400.0 / _SCA_AREA
_STAR_DENSITY_SN_FIELD = 190.0 / _SCA_AREA
#: Object id of the SN's host galaxy.
HOST_ID = 1_000_000_000 + SN_ID
#: Radius (arcsec) of the ring around the field centre on which hosted supernovae sit.
HOSTED_RING = 5.0
#: Object id of the first hosted supernova (the k-th is ``HOSTED_SN_ID + k``).
HOSTED_SN_ID = SN_ID + 1
#: ``obj_type`` of the kinds of source.
KINDS = ("star", "galaxy", "galaxy", "transient")
STAR, GALAXY, HOST, SN = range(4)

_ICRS_TO_GALACTIC = np.array(
    [
        [-0.0548755604162154, -0.8734370902348850, -0.4838350155487132],
        [+0.4941094278755837, -0.4448296299600112, +0.7469822444972189],
        [-0.8676661490190047, -0.1980763734312015, +0.4559837761750669],
    ]
)


def galactic_latitude(ra: float, dec: float) -> float:
    """Galactic latitude (deg) of an ICRS position (the IAU rotation matrix)."""
    r, d = np.radians(ra), np.radians(dec)
    v = np.array([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)])
    return float(np.degrees(np.arcsin(np.clip(_ICRS_TO_GALACTIC[2] @ v, -1.0, 1.0))))


def default_star_density(ra: float, dec: float) -> float:
    """Stars per deg² (AB 15–26.5) at (ra, dec): the OU2024 count scaled as 1/sin|b|."""

    def sin_b(r: float, d: float) -> float:
        return float(np.sin(np.radians(max(abs(galactic_latitude(r, d)), 10.0))))

    return _STAR_DENSITY_SN_FIELD * sin_b(SN_RA, SN_DEC) / sin_b(ra, dec)


def gnomonic(
    ra0: float, dec0: float, ra: np.ndarray, dec: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-plane coordinates (arcsec; xi east, eta north) of (ra, dec) about (ra0, dec0)."""
    xi, eta = tangent.gnomonic(ra, dec, ra0, dec0)
    return np.degrees(xi) * 3600.0, np.degrees(eta) * 3600.0


def inverse_gnomonic(
    ra0: float, dec0: float, xi: np.ndarray, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees, ra in [0, 360), of tangent-plane offsets (arcsec) about (ra0, dec0)."""
    return tangent.inverse_gnomonic(np.radians(np.asarray(xi) / 3600.0),
                                    np.radians(np.asarray(eta) / 3600.0), ra0, dec0)


@dataclass
class Catalog:
    """Sources as parallel arrays (one row per object).

    ``mag`` is the Y106 AB magnitude, ``color`` Y106−H158, ``hlr`` the disk half-light radius
    (arcsec; 0 for point sources), ``bulge`` the bulge flux fraction, ``q`` the axis ratio and
    ``beta`` the position angle of the major axis (deg).
    """

    object_id: np.ndarray
    kind: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    mag: np.ndarray
    color: np.ndarray
    hlr: np.ndarray
    bulge: np.ndarray
    q: np.ndarray
    beta: np.ndarray

    @classmethod
    def concatenate(cls, parts: list[Catalog]) -> Catalog:
        """One catalogue holding the rows of ``parts`` in order."""
        names = cls.__dataclass_fields__
        if not parts:
            return cls(
                **{
                    n: np.zeros(0, dtype=np.int64 if n in ("object_id", "kind") else float)
                    for n in names
                }
            )
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})

    def __len__(self) -> int:
        return len(self.object_id)

    def take(self, index: np.ndarray) -> Catalog:
        """Return the rows selected by ``index`` (boolean mask or integer indices)."""
        return Catalog(**{n: getattr(self, n)[index] for n in self.__dataclass_fields__})

    def magnitude(self, band: str) -> np.ndarray:
        """AB magnitudes in ``band`` from the Y106 magnitude and the linear colour model."""
        lam_y, lam_h = EFFECTIVE_WAVELENGTH["Y106"], EFFECTIVE_WAVELENGTH["H158"]
        slope = (EFFECTIVE_WAVELENGTH[band] - lam_y) / (lam_h - lam_y)
        return self.mag - self.color * slope


def check_hosted(hosted: Any) -> tuple[tuple[float, float], ...]:
    """Validate ``hosted`` pairs ``(host Y106 AB magnitude, SN offset from the host in arcsec)``.

    Raises
    ------
    ValueError
        Unless every pair has a finite magnitude and an offset in [0, 3] arcsec.
    """
    pairs = []
    for pair in hosted or ():
        try:
            mag, offset = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"hosted takes (host_mag, offset_arcsec) pairs, not {pair!r}") from None
        if not (np.isfinite(mag) and 0.0 <= offset <= 3.0):
            raise ValueError(f"hosted pair {pair!r}: need a finite host magnitude and an offset "
                             "of 0–3 arcsec")
        pairs.append((mag, offset))
    return tuple(pairs)


def hosted_positions(ra: float, dec: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees of ``n`` hosted supernovae about the field centre (module docstring)."""
    angle = 2 * np.pi * np.arange(n) / max(n, 1)
    return inverse_gnomonic(ra, dec, HOSTED_RING * np.sin(angle), HOSTED_RING * np.cos(angle))


def _disk(object_id: int, ra: np.ndarray, dec: np.ndarray, mag: float,
          rng: np.random.Generator) -> Catalog:
    """One exponential-disk host (Y−H 0.35, half-light radius 0.6″; axis ratio, angle from rng)."""
    return Catalog(np.array([object_id]), np.array([HOST]), ra, dec, np.array([mag]),
                   np.array([0.35]), np.array([0.6]), np.array([0.0]),
                   np.array([rng.uniform(0.5, 0.9)]), np.array([rng.uniform(0.0, 180.0)]))


def _power_law_mags(
    rng: np.random.Generator, n: int, lo: float, hi: float, slope: float
) -> np.ndarray:
    """Magnitudes on [lo, hi] with dN/dm ∝ 10^(slope·m)."""
    a, b = 10.0 ** (slope * lo), 10.0 ** (slope * hi)
    return np.log10(a + rng.uniform(size=n) * (b - a)) / slope


@dataclass(frozen=True)
class Scene:
    """The sky around a field centre: generates the sources of any 60″ cell, deterministically.

    Parameters
    ----------
    ra, dec : float
        Field centre (deg), the tangent point of the cell grid.
    seed : int
        Scene seed (the survey seed): same seed, same sky.
    star_density, galaxy_density : float
        Sources per deg².
    """

    ra: float
    dec: float
    seed: int
    star_density: float
    galaxy_density: float

    def cell(self, i: int, j: int) -> Catalog:
        """Return the stars and galaxies of cell (i, j): offsets [i·CELL, (i+1)·CELL) etc."""
        if max(abs(i), abs(j)) >= 2**15:
            raise ValueError("cell index out of range: the field is more than 500° wide?")
        rng = np.random.default_rng([self.seed, 0x5C3E, i + 2**15, j + 2**15])
        area = (CELL / 3600.0) ** 2
        n_star, n_gal = (
            rng.poisson(self.star_density * area),
            rng.poisson(self.galaxy_density * area),
        )
        if max(n_star, n_gal) >= 100_000:
            raise ValueError("source density too high (more than 1e5 sources per 60″ cell)")
        n = n_star + n_gal
        xi = (i + rng.uniform(size=n)) * CELL
        eta = (j + rng.uniform(size=n)) * CELL
        ra, dec = inverse_gnomonic(self.ra, self.dec, xi, eta)
        kind = np.repeat(np.array([STAR, GALAXY]), [n_star, n_gal])
        mag = np.concatenate(
            [
                _power_law_mags(rng, n_star, 15.0, 26.5, 0.1),
                _power_law_mags(rng, n_gal, 18.0, 27.0, 0.25),
            ]
        )
        color = np.concatenate([rng.uniform(0.0, 0.6, n_star), rng.normal(0.35, 0.1, n_gal)])
        hlr = 0.35 * 10.0 ** (-0.15 * (mag - 23.0) + rng.normal(0.0, 0.15, n))
        hlr = np.where(kind == GALAXY, np.clip(hlr, 0.05, 4.0), 0.0)
        bulge = np.where(kind == GALAXY, rng.beta(1.0, 3.0, n), 0.0)
        q = np.where(kind == GALAXY, rng.uniform(0.3, 1.0, n), 1.0)
        beta = rng.uniform(0.0, 180.0, n)
        cell_key = (i + 2**15) * 2**16 + (j + 2**15)
        index = np.concatenate([np.arange(n_star), np.arange(n_gal)])
        object_id = ((cell_key * 10 + kind) * 100_000 + index).astype(np.int64)
        return Catalog(object_id, kind.astype(np.int64), ra, dec, mag, color, hlr, bulge, q, beta)

    def cells_covering(
        self, ra: np.ndarray, dec: np.ndarray, margin: float
    ) -> list[tuple[int, int]]:
        """Cells of the box around the positions (ra, dec) grown by ``margin`` arcsec."""
        xi, eta = gnomonic(self.ra, self.dec, np.asarray(ra), np.asarray(dec))
        i0, i1 = (int(np.floor(v / CELL)) for v in (xi.min() - margin, xi.max() + margin))
        j0, j1 = (int(np.floor(v / CELL)) for v in (eta.min() - margin, eta.max() + margin))
        return [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]

    def sources(self, cells: list[tuple[int, int]]) -> Catalog:
        """All stars and galaxies of ``cells`` (in the order given)."""
        return Catalog.concatenate([self.cell(i, j) for i, j in cells])

    def host(self) -> Catalog:
        """Return the SN host galaxy (one row)."""
        rng = np.random.default_rng([self.seed, 0x4057])
        angle = rng.uniform(0.0, 2 * np.pi)
        ra, dec = inverse_gnomonic(
            self.ra, self.dec, np.array([0.45 * np.sin(angle)]), np.array([0.45 * np.cos(angle)])
        )
        return _disk(HOST_ID, ra, dec, 22.0, rng)

    def hosted(self, hosted: tuple[tuple[float, float], ...]) -> Catalog:
        """Return the hosts of the hosted supernovae (one row per ``(host_mag, offset)`` pair)."""
        sn_ra, sn_dec = hosted_positions(self.ra, self.dec, len(hosted))
        parts = []
        for k, (mag, offset) in enumerate(hosted):
            rng = np.random.default_rng([self.seed, 0x4057, k + 1])
            angle = rng.uniform(0.0, 2 * np.pi)
            xi, eta = gnomonic(self.ra, self.dec, sn_ra[k : k + 1], sn_dec[k : k + 1])
            ra, dec = inverse_gnomonic(self.ra, self.dec, xi + offset * np.sin(angle),
                                       eta + offset * np.cos(angle))
            parts.append(_disk(1_000_000_000 + HOSTED_SN_ID + k, ra, dec, mag, rng))
        return Catalog.concatenate(parts)


def truth_table(cat: Catalog, x: np.ndarray, y: np.ndarray, flux: np.ndarray, zp_ab: float,
                meta: dict, sn: tuple[float, float, float, float, float] | None,
                transients: list[tuple[int, float, float, float, float, float]] = ()) -> Any:
    """Return the truth table of an exposure as an astropy Table.

    Parameters
    ----------
    cat : Catalog
        The drawn sources.
    x, y : numpy.ndarray
        Their 0-based image pixel positions (a source may sit just off the image).
    flux : numpy.ndarray
        Their fluxes (e⁻).
    zp_ab : float
        AB zeropoint of the exposure.
    meta : dict
        Table metadata (band, visit, SCA, date...).
    sn : tuple, optional
        ``(ra, dec, x, y, flux)`` of the supernova, appended with id ``SN_ID``.
    transients : list of tuple
        ``(object_id, ra, dec, x, y, flux)`` of more supernovae (hosted ones), appended last.
    """
    from astropy.table import Table

    kinds = [KINDS[k] for k in cat.kind]
    columns = [cat.object_id, cat.ra, cat.dec, x, y, flux]
    rows = ([(SN_ID, *sn)] if sn is not None else []) + list(transients)
    for row in rows:
        columns = [np.append(c, v) for c, v in zip(columns, row, strict=True)]
        kinds.append("transient")
    object_id, ra, dec, xs, ys, fluxes = columns
    with np.errstate(divide="ignore"):
        mag = np.where(fluxes > 0, zp_ab - 2.5 * np.log10(np.maximum(fluxes, 1e-300)), np.nan)
    table = Table({"object_id": object_id.astype(np.int64), "ra": ra, "dec": dec, "x": xs,
                   "y": ys, "flux": fluxes, "mag_ab": mag, "obj_type": np.array(kinds, dtype=str)})
    table["ra"].unit = table["dec"].unit = "deg"
    table["x"].unit = table["y"].unit = "pix"
    table["x"].description = "0-based image pixel (x = column)"
    table["flux"].unit = "electron"
    table["flux"].description = "total flux in the exposure (e-)"
    table["mag_ab"].description = "ZP_AB - 2.5 log10(flux); nan when flux = 0"
    table.meta.update(meta)
    return table
