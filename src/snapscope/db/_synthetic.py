"""Synthetic image footprints for tests, benchmarks and demos of the catalogue.

Footprints are squares of a given angular size (gnomonic, so their edges are great circles)
with random centres and rotations; a chosen fraction sits on RA = 0/360 and near the poles,
where naive (RA, Dec) boxes fail.

:func:`survey_columns` is the survey the catalogue benchmarks and the scale tests load (the
same code at every size): Roman-SCA-sized footprints, half spread over the whole sky (5 % on
RA 0/360, 5 % near the poles), half in the :data:`DEEP_FIELDS` (1 degree radius; ~260 images
over each point per million rows, like the supernova survey's stacks). :func:`survey_points`
draws query positions: half in the deep fields, half anywhere.
"""

from __future__ import annotations

import numpy as np

from snapscope.db._spatial import radec_to_xyz

__all__ = ["random_footprints", "xyz_to_radec", "DEEP_FIELDS", "SPECIAL_POINTS", "survey_footprints",
           "survey_columns", "survey_images", "survey_points"]

#: positions on RA 0/360 and at the poles that position-search checks include
SPECIAL_POINTS = [(0.0, 0.0), (359.9999999, 0.05), (0.0, -0.05), (0.2, 0.1), (0.25, 0.5),
                  (359.9, -60.0), (0.05, -60.02), (10.0, 88.9), (0.0, 90.0), (123.0, -90.0),
                  (180.0, 89.99), (300.0, -89.5)]

#: (ra, dec) of the synthetic survey's deep fields: three on RA 0/360, one near the pole
DEEP_FIELDS = np.array(
    [[7.55, -44.8], [53.1, -27.8], [150.1, 2.2], [0.2, 0.1], [359.9, -60.0],
     [270.0, 66.5], [10.0, 88.9], [189.2, 62.2], [214.9, 52.7], [35.7, -4.7]]
)


def xyz_to_radec(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert unit vectors (..., 3) to (ra, dec) in degrees, ra in [0, 360)."""
    ra = np.degrees(np.arctan2(v[..., 1], v[..., 0])) % 360.0
    dec = np.degrees(np.arctan2(v[..., 2], np.hypot(v[..., 0], v[..., 1])))
    return ra, dec


def random_footprints(
    n: int,
    size: float | tuple[float, float] = 0.125,
    seed: int = 0,
    ra0_fraction: float = 0.2,
    pole_fraction: float = 0.2,
) -> dict[str, np.ndarray]:
    """Random square footprints.

    Parameters
    ----------
    n : int
        Number of footprints.
    size : float or (float, float)
        Side in degrees, or a range to draw log-uniformly from.
    seed : int
        Random seed.
    ra0_fraction, pole_fraction : float
        Fractions centred within 1 degree of RA = 0, and above |Dec| = 85.

    Returns
    -------
    dict
        ``ra``, ``dec`` (centres) and ``ra_corner_00`` ... ``dec_corner_10`` arrays, corners in
        snappl's pixel order (00 = first pixel, 01 = +y, 11, 10 = +x).
    """
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    n0, npole = int(n * ra0_fraction), int(n * pole_fraction)
    ra[:n0] = rng.uniform(-1, 1, n0) % 360
    dec[n0 : n0 + npole] = rng.choice([-1.0, 1.0], npole) * rng.uniform(85, 90, npole)
    if np.ndim(size):
        side = np.exp(rng.uniform(np.log(size[0]), np.log(size[1]), n))
    else:
        side = np.full(n, float(size))
    c = radec_to_xyz(ra, dec)
    east = np.cross([0.0, 0.0, 1.0], c)
    polar = np.linalg.norm(east, axis=1) < 1e-9
    east[polar] = [0.0, 1.0, 0.0]
    east /= np.linalg.norm(east, axis=1)[:, None]
    north = np.cross(c, east)
    theta = rng.uniform(0, 2 * np.pi, n)
    ex = np.cos(theta)[:, None] * east + np.sin(theta)[:, None] * north  # image +x
    ey = -np.sin(theta)[:, None] * east + np.cos(theta)[:, None] * north  # image +y
    h = np.tan(np.radians(side) / 2)[:, None]
    out = {"ra": ra % 360, "dec": dec}
    for name, sx, sy in (("00", -1, -1), ("01", -1, 1), ("11", 1, 1), ("10", 1, -1)):
        p = c + h * (sx * ex + sy * ey)
        p /= np.linalg.norm(p, axis=1)[:, None]
        out[f"ra_corner_{name}"], out[f"dec_corner_{name}"] = xyz_to_radec(p)
    return out


def _rotate(v: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotate vectors v (N, 3) by the rotations taking unit vectors a to b (Rodrigues)."""
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=1)[:, None]
    c = np.einsum("ni,ni->n", a, b)[:, None]
    k = axis / np.maximum(s, 1e-300)
    return v * c + np.cross(k, v) * s + k * np.einsum("ni,ni->n", k, v)[:, None] * (1 - c)


def survey_footprints(n: int, seed: int) -> dict[str, np.ndarray]:
    """Footprints of the synthetic survey (module docstring): ``ra``, ``dec`` and 8 corners.

    Parameters
    ----------
    n : int
        Number of footprints.
    seed : int
        Random seed (the same seed gives the same footprints).
    """
    fp = random_footprints(n, size=(0.11, 0.14), seed=seed, ra0_fraction=0.05, pole_fraction=0.05)
    rng = np.random.default_rng(seed + 1)
    deep = np.nonzero(rng.random(n) < 0.5)[0]
    field = DEEP_FIELDS[rng.integers(0, len(DEEP_FIELDS), len(deep))]
    # move each deep one rigidly onto a random point within 1 degree of its field
    r = np.sqrt(rng.random(len(deep)))
    a = rng.uniform(0, 2 * np.pi, len(deep))
    new_ra = (field[:, 0] + r * np.cos(a) / np.cos(np.radians(field[:, 1]))) % 360
    new_dec = np.clip(field[:, 1] + r * np.sin(a), -89, 89)
    old = radec_to_xyz(fp["ra"][deep], fp["dec"][deep])
    new = radec_to_xyz(new_ra, new_dec)
    for name in ("00", "01", "11", "10"):
        v = radec_to_xyz(fp[f"ra_corner_{name}"][deep], fp[f"dec_corner_{name}"][deep])
        fp[f"ra_corner_{name}"][deep], fp[f"dec_corner_{name}"][deep] = xyz_to_radec(
            _rotate(v, old, new)
        )
    fp["ra"][deep], fp["dec"][deep] = new_ra, new_dec
    return fp


def survey_columns(n: int, provenance_id: object, seed: int, first: int = 0,
                   prefix: str = "/survey",
                   footprints: dict[str, np.ndarray] | None = None) -> dict[str, object]:
    """Catalogue columns of ``n`` survey images, ready for ``snapscope.db.save_columns``.

    Parameters
    ----------
    n : int
        Number of rows.
    provenance_id : UUID
        Provenance of every row.
    seed : int
        Seed of the footprints (:func:`survey_footprints`).
    first : int
        Number of the first row: filepaths are ``{prefix}/{first + i:09d}.fits``.
    prefix : str
        Directory part of the filepaths (distinct per provenance keeps them unique).
    footprints : dict, optional
        ``survey_footprints(n, seed)`` made beforehand (e.g. stored), to skip making them.
    """
    cols: dict[str, object] = dict(footprints if footprints is not None
                                   else survey_footprints(n, seed))
    k = np.arange(first, first + n)
    cols["provenance_id"] = [provenance_id] * n
    cols["filepath"] = [f"{prefix}/{i:09d}.fits" for i in k.tolist()]
    cols["format"] = np.full(n, 2)
    cols["band"] = np.array(["Y106", "J129", "H158"], dtype=object)[k % 3]
    cols["mjd"] = 62000 + k * 0.01
    cols["sca"] = k % 18 + 1
    cols["observation_id"] = (k // 18).astype(str).astype(object)
    return cols


def survey_images(n: int, provenance_id: object, seed: int, prefix: str = "/survey") -> list:
    """``n`` survey images as ``FITSImage`` objects (no files), for ``Image.bulk_save_to_db``.

    Footprints as :func:`survey_footprints`; filepaths ``{prefix}/{i:06d}.fits``; 4088² Y106
    exposures of 100 s.
    """
    from snapscope.image import FITSImage

    fp = survey_footprints(n, seed)
    images = []
    for i in range(n):
        im = FITSImage(full_filepath=f"{prefix}/{i:06d}.fits", width=4088, height=4088,
                       band="Y106", mjd=62000.0 + i, exptime=100.0, position_angle=0.0, sca=1,
                       observation_id=str(i), **{k: float(v[i]) for k, v in fp.items()})
        im.provenance_id = provenance_id
        images.append(im)
    return images


def survey_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Query positions: ``(ra, dec, deep)``, the first half within 0.9 degree of a deep field."""
    rng = np.random.default_rng(seed)
    half = n // 2
    fields = DEEP_FIELDS[rng.integers(0, len(DEEP_FIELDS), half)]
    r, a = np.sqrt(rng.random(half)) * 0.9, rng.uniform(0, 2 * np.pi, half)
    ra_d = (fields[:, 0] + r * np.cos(a) / np.cos(np.radians(fields[:, 1]))) % 360
    dec_d = fields[:, 1] + r * np.sin(a)
    ra_w = rng.uniform(0, 360, n - half)
    dec_w = np.degrees(np.arcsin(rng.uniform(-1, 1, n - half)))
    return np.concatenate([ra_d, ra_w]), np.concatenate([dec_d, dec_w]), np.arange(n) < half
