"""Sky, noise, detector defects, cosmic rays and saturation; the DQ plane.

Decisions
---------
* **Units.** SCI is e⁻ per exposure with the sky left in (as OU2024; ``SKY_MEAN`` says how much)
  and the mean dark current subtracted. GAIN = 1 (``galsim.roman.gain``).
* **Noise.** ``Poisson(model + sky + dark + hot) + cosmic rays + N(0, 8.5 e⁻) − dark``.
  ERR is the *expected* 1σ, ``sqrt(model + sky + dark + hot + 8.5²)`` (not the realised one, and
  without the cosmic rays, which are flagged instead).
* **Defects** belong to the detector: they are drawn over the whole SCA from a stream that depends
  only on the SCA number, so every exposure (any seed, pointing or sub-array) shows the same
  ones: dead pixels (2e-4 of pixels; value 0; DEAD|DO_NOT_USE), hot pixels (1e-3; 0.3–30 e⁻/s
  log-uniform, left in the data; HOT) and one bad column per SCA (no charge, read noise only;
  OTHER_BAD_PIXEL|DO_NOT_USE).
* **Cosmic rays**: 1 cm⁻² s⁻¹ (about 5,000 per 302 s on a full SCA; ``cr_rate`` scales it),
  isotropic in direction (so cos θ of a track crossing the detector is distributed ∝ cos θ),
  straight tracks of projected length 0.5 tan θ pixels (a ~5 μm absorber under 10 μm pixels;
  capped at 20 px), depositing about 800 e⁻ per pixel crossed (log-normal, 0.2 dex); JUMP_DET.
* **Saturation**: pixels that collect 1e5 e⁻ are clipped there and flagged SATURATED|DO_NOT_USE
  (their value is a lower limit, so they are unusable, not merely suspect).
* DQ bit values are roman_datamodels' ``dqflags.pixel`` (hard-coded; a test compares them when
  roman_datamodels is installed).
"""

from __future__ import annotations

import numpy as np

from snapscope.roman import PIXEL_SIZE_CM, SCA_PIXELS

__all__ = [
    "DQ",
    "READ_NOISE",
    "DARK_CURRENT",
    "SATURATION",
    "Defects",
    "detector_defects",
    "add_noise",
]

#: roman_datamodels ``dqflags.pixel`` bit values used by the simulator.
DQ = {
    "DO_NOT_USE": 1,
    "SATURATED": 2,
    "JUMP_DET": 4,
    "DEAD": 1024,
    "HOT": 2048,
    "OTHER_BAD_PIXEL": 1 << 30,
}
#: Read noise (e⁻), dark current (e⁻/s) and full well (e⁻), as ``galsim.roman`` / OU2024.
READ_NOISE = 8.5
DARK_CURRENT = 0.015
SATURATION = 1.0e5
DEAD_FRACTION, HOT_FRACTION = 2e-4, 1e-3
CR_RATE = 1.0  # per cm² per s
CR_CHARGE_PER_PIXEL = 800.0
CR_DEPTH = 0.5  # absorber thickness in pixel pitches


class Defects:
    """Fixed defects of one SCA in SCA pixels (0-based): dead and hot pixels, one bad column."""

    def __init__(self, sca: int) -> None:
        rng = np.random.default_rng([0xDEFEC7, sca])
        n = SCA_PIXELS * SCA_PIXELS
        dead = rng.choice(n, size=int(DEAD_FRACTION * n), replace=False)
        hot = rng.choice(n, size=int(HOT_FRACTION * n), replace=False)
        hot = np.setdiff1d(hot, dead)
        self.dead_y, self.dead_x = np.divmod(dead, SCA_PIXELS)
        self.hot_y, self.hot_x = np.divmod(hot, SCA_PIXELS)
        self.hot_rate = 10.0 ** rng.uniform(np.log10(0.3), np.log10(30.0), size=hot.size)
        self.bad_column = int(rng.integers(0, SCA_PIXELS))

    def in_image(self, x0: int, y0: int, size: int) -> dict[str, tuple[np.ndarray, ...]]:
        """Image-pixel (0-based) positions of the defects inside the sub-array at (x0, y0)."""

        def pick(xs: np.ndarray, ys: np.ndarray, *extra: np.ndarray) -> tuple[np.ndarray, ...]:
            keep = (xs >= x0) & (xs < x0 + size) & (ys >= y0) & (ys < y0 + size)
            return (ys[keep] - y0, xs[keep] - x0, *(e[keep] for e in extra))

        column = self.bad_column - x0
        return {
            "dead": pick(self.dead_x, self.dead_y),
            "hot": pick(self.hot_x, self.hot_y, self.hot_rate),
            "column": (np.array([column]) if 0 <= column < size else np.zeros(0, dtype=int),),
        }


_DEFECTS: dict[int, Defects] = {}


def detector_defects(sca: int) -> Defects:
    """Return the (cached) defects of SCA ``sca``."""
    if sca not in _DEFECTS:
        _DEFECTS[sca] = Defects(sca)
    return _DEFECTS[sca]


def _cosmic_rays(
    rng: np.random.Generator, size: int, exptime: float, rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cosmic-ray hits: (iy, ix, charge) of every pixel a track crosses (repeats allowed)."""
    n = rng.poisson(rate * exptime * (size * PIXEL_SIZE_CM) ** 2)
    x, y = rng.uniform(-0.5, size - 0.5, n), rng.uniform(-0.5, size - 0.5, n)
    cos_theta = np.sqrt(rng.uniform(1e-12, 1.0, n))
    length = np.minimum(CR_DEPTH * np.sqrt(1.0 - cos_theta**2) / cos_theta, 20.0)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    steps = np.ceil(2 * length).astype(int) + 1
    track = np.repeat(np.arange(n), steps)
    t = (np.arange(track.size) - np.repeat(np.cumsum(steps) - steps, steps)) / np.repeat(
        steps, steps
    )
    px = np.floor(x[track] + t * length[track] * np.cos(phi[track]) + 0.5).astype(int)
    py = np.floor(y[track] + t * length[track] * np.sin(phi[track]) + 0.5).astype(int)
    cells = np.unique(np.stack([track, py, px]), axis=1)
    track, py, px = cells
    inside = (px >= 0) & (px < size) & (py >= 0) & (py < size)
    per_pixel = CR_CHARGE_PER_PIXEL * 10.0 ** rng.normal(0.0, 0.2, n)
    return py[inside], px[inside], per_pixel[track[inside]]


def add_noise(
    model: np.ndarray, *, sky: float, exptime: float, defects: dict, seed: int, cr_rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn an expected-electron ``model`` into (SCI, ERR, DQ).

    Parameters
    ----------
    model : numpy.ndarray
        Expected source electrons per pixel (float64; not modified).
    sky : float
        Sky electrons per pixel.
    exptime : float
        Exposure time (s).
    defects : dict
        :meth:`Defects.in_image` of the image's sub-array.
    seed : int
        Seed of the noise and cosmic rays.
    cr_rate : float
        Cosmic-ray rate relative to 1 cm⁻² s⁻¹ (0 for none).

    Returns
    -------
    sci, err : numpy.ndarray
        float32 data and expected 1σ (e⁻).
    dq : numpy.ndarray
        uint32 flags.
    """
    rng = np.random.default_rng([seed, 0x401CE])
    dark = DARK_CURRENT * exptime
    expected = model + (sky + dark)
    dq = np.zeros(model.shape, dtype=np.uint32)
    hot_y, hot_x, hot_rate = defects["hot"]
    expected[hot_y, hot_x] += hot_rate * exptime
    dq[hot_y, hot_x] |= DQ["HOT"]
    charge = rng.poisson(expected).astype(np.float64, copy=False)
    if cr_rate > 0:
        cy, cx, cq = _cosmic_rays(rng, model.shape[0], exptime, CR_RATE * cr_rate)
        np.add.at(charge, (cy, cx), cq)
        dq[cy, cx] |= DQ["JUMP_DET"]
    (column,) = defects["column"]
    charge[:, column] = 0.0
    dq[:, column] |= DQ["OTHER_BAD_PIXEL"] | DQ["DO_NOT_USE"]
    saturated = charge >= SATURATION
    dq[saturated] |= DQ["SATURATED"] | DQ["DO_NOT_USE"]
    sci = rng.normal(0.0, READ_NOISE, model.shape)  # in-place from here: 4088² arrays are big
    sci += charge
    del charge
    sci -= dark
    sci[saturated] = SATURATION - dark
    dead_y, dead_x = defects["dead"]
    sci[dead_y, dead_x] = 0.0
    dq[dead_y, dead_x] |= DQ["DEAD"] | DQ["DO_NOT_USE"]
    expected += READ_NOISE**2
    err = np.sqrt(expected, out=expected).astype(np.float32)
    return sci.astype(np.float32), err, dq
