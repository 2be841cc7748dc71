"""Numbers shared by the Python and the JS tests (js/tests/fixtures/*.json).

The same stretch cases are checked here against ``snapscope.tiles.render_rgba`` and in
``js/tests/stretch.test.ts`` against the shader's CPU twin; the same WCS grids and points are
checked here and in ``js/tests/wcs.test.ts``; the same compressed tiles are decoded here by
``snapscope.tiles.decode_tile`` and in ``js/tests/tiles.test.ts``, to the same float32 bits.
Regenerate with ``SNAPSCOPE_REGEN_FIXTURES=1``.
"""

import base64
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.visualization import stretch as st
from astropy.wcs import WCS, Sip

from snapscope.tiles import colormap_lut, decode_tile, encode_tile, render_rgba
from snapscope.widgets._traits import (
    CUT_PERCENTILES,
    interval_from_spec,
    sample_quantiles,
    stretch_spec,
)
from snapscope.widgets._wcsgrid import grid_arrays, grid_pixel_to_sky, wcs_grid

FIXTURES = Path(__file__).resolve().parents[2] / "js" / "tests" / "fixtures"
VALUES = [float("nan"), -50.0, 0.0, 3.0, 10.0, 10.001, 17.5, 25.0, 42.0, 99.9, 100.0, 1e6]
VMIN, VMAX = 10.0, 100.0
STRETCHES = {
    "linear": st.LinearStretch(),
    "linear_slope": st.LinearStretch(slope=1.5, intercept=-0.2),
    "sqrt": st.SqrtStretch(),
    "squared": st.SquaredStretch(),
    "power": st.PowerStretch(0.7),
    "powerdist": st.PowerDistStretch(100.0),
    "invpowerdist": st.InvertedPowerDistStretch(100.0),
    "log": st.LogStretch(),
    "invlog": st.InvertedLogStretch(1000.0),
    "asinh": st.AsinhStretch(0.05),
    "sinh": st.SinhStretch(),
    "contrastbias": st.ContrastBiasStretch(2.0, 0.4),
    "histeq": st.HistEqStretch(np.sqrt(np.linspace(0, 1, 101))),
}


def expected_s(stretch, values):
    t = np.clip((np.asarray(values, float) - VMIN) / (VMAX - VMIN), 0, 1)  # ImageNormalize(clip=True)
    with np.errstate(invalid="ignore"):
        return np.clip(stretch(t, clip=False), 0, 1)


def build_stretch_cases():
    cases = []
    for name, stretch in STRETCHES.items():
        spec = stretch_spec(stretch)
        s = expected_s(stretch, VALUES)
        index = [None if math.isnan(v) else min(int(math.floor(v * 256)), 255) for v in s]
        lut = None if spec["lut"] is None else np.frombuffer(spec["lut"], "<f4").tolist()
        cases.append(
            {
                "label": name,
                "name": spec["name"],
                "params": spec["params"],
                "lut": lut,
                "s": [None if math.isnan(v) else float(v) for v in s],
                "index": index,
            }
        )
    return {
        "vmin": VMIN,
        "vmax": VMAX,
        "values": [None if math.isnan(v) else v for v in VALUES],
        "cases": cases,
    }


def sip_wcs():
    w = WCS(naxis=2)
    w.wcs.crpix, w.wcs.crval = [100.0, -300.0], [359.99, -45.0]
    w.wcs.cdelt = [-0.11 / 3600, 0.11 / 3600]
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    a, b = np.zeros((4, 4)), np.zeros((4, 4))
    a[2, 0], a[1, 1], a[3, 0], b[0, 2], b[2, 1] = 1e-6, -2e-6, 1e-10, 2e-6, 1e-10
    w.sip = Sip(a, b, None, None, w.wcs.crpix)
    return w, (4088, 4088)


def air_wcs():
    w = WCS(naxis=2)  # the AIDA test WCS: 10 degrees across, around the south pole
    w.wcs.crpix, w.wcs.cdelt = [-234.75, 8.3393], [-0.066667, 0.066667]
    w.wcs.crval, w.wcs.ctype = [0, -90], ["RA---AIR", "DEC--AIR"]
    w.wcs.set_pv([(2, 1, 45.0)])
    return w, (100, 150)


def build_wcs_cases():
    rng = np.random.default_rng(11)
    cases = []
    for name, (wcs, shape) in {"sip_ra0": sip_wcs(), "air_pole": air_wcs()}.items():
        grid = wcs_grid(wcs, shape)
        h, w = shape
        x = np.concatenate([rng.uniform(-0.5, w - 0.5, 40), [-0.5, w - 0.5, (w - 1) / 2]])
        y = np.concatenate([rng.uniform(-0.5, h - 0.5, 40), [-0.5, h - 0.5, (h - 1) / 2]])
        ra, dec = wcs.pixel_to_world_values(x, y)
        xi, eta = grid_arrays(grid)
        g = {k: v for k, v in grid.items() if k not in ("xi", "eta")}
        cases.append(
            {
                "label": name,
                "grid": {**g, "xi": xi.tolist(), "eta": eta.tolist()},
                "x": x.tolist(),
                "y": y.tolist(),
                "ra": np.asarray(ra).tolist(),
                "dec": np.asarray(dec).tolist(),
            }
        )
    return {"cases": cases}


def tile_sources():
    """Small tiles with every kind of value: sky, NaN, ±inf, ±0, negatives, a scaled one."""
    rng = np.random.default_rng(17)
    sky = (1000 + 10 * rng.standard_normal((24, 32))).astype(np.float32)
    sky.flat[:8] = [np.nan, np.inf, -np.inf, -0.0, 0.0, -12.5, 3e-6, 65504.0]
    scaled = sky.copy()
    scaled[3, 3] = -2e6
    mask = (rng.random((16, 16)) < 0.1).astype(np.float32) * rng.choice([0.25, 1.0], (16, 16))
    return {
        "sky_float16": (sky, "float16"),
        "sky_float32": (sky, "float32"),
        "scaled_float16": (scaled, "float16"),
        "mask_fractions": (mask, "float16"),
        "all_nan": (np.full((8, 8), np.nan, np.float32), "float16"),
    }


def build_tile_cases():
    cases = []
    for label, (values, dtype) in tile_sources().items():
        header, payload = encode_tile(values, dtype, compress=True)
        assert header["compression"] == "zlib", label
        bits = decode_tile(header, payload).view(np.uint32).ravel().tolist()
        cases.append(
            {
                "label": label,
                "header": header,
                "payload": base64.b64encode(payload).decode(),
                "bits": bits,
            }
        )
    return {"cases": cases}


#: Percentile cuts that are not knots of the quantile table (interpolated in the browser).
OFF_KNOT_PERCENTILES = (80.5, 99.3, 99.95)


def quantile_sample() -> np.ndarray:
    """A skewed sample like a sky image's: noise, a few bright stars, one saturated block."""
    rng = np.random.default_rng(23)
    sky = 1000 + 10 * rng.standard_normal(20000)
    stars = 1000 + 10 ** rng.uniform(1, 4.5, 300)
    return np.concatenate([sky, stars, np.full(40, 65000.0)])


def build_quantile_cases():
    sample = quantile_sample()
    table = sample_quantiles(sample)
    q = np.frombuffer(table["q"], "<f8")
    cases = []
    for pct in CUT_PERCENTILES + OFF_KNOT_PERCENTILES:
        lower, upper = (100 - pct) / 2, (100 + pct) / 2
        spec = {"kind": "percentile", "lower": lower, "upper": upper}
        vmin, vmax = interval_from_spec(spec, None, None).get_limits(sample)
        # The values at the knots around each end: the browser's interpolation stays between.
        brackets = [
            [float(q[np.searchsorted(table["p"], e, "right") - 1]),
             float(q[min(np.searchsorted(table["p"], e, "left"), len(q) - 1)])]
            for e in (lower, upper)
        ]
        cases.append({"percentile": pct, "knot": pct in CUT_PERCENTILES,
                      "vmin": float(vmin), "vmax": float(vmax), "brackets": brackets})
    return {"p": table["p"], "q": q.tolist(), "cases": cases}


BUILDERS = {
    "quantile_cases.json": build_quantile_cases,
    "stretch_cases.json": build_stretch_cases,
    "wcs_cases.json": build_wcs_cases,
    "tile_cases.json": build_tile_cases,
}

# How close a regenerated fixture must be to the committed one: (rtol, atol) for floats; every
# other value (ints, bits, labels, structure) is compared exactly.
# * stretch_cases: astropy's stretches run on numpy, whose SIMD pow/log/asinh change in the last
#   bits between releases (2e-16 relative from numpy 2.4 to 2.5). Not our bits; the browser's
#   twin is held to 1e-6 against these numbers anyway.
# * wcs_cases: astropy/wcslib trigonometry, the same kind of last-bit drift (1e-12 degrees is
#   4 microarcseconds; the grid is held to a milliarcsecond).
# * quantile_cases: numpy's random sample and np.percentile / astropy's PercentileInterval, the
#   same last-bit drift; the browser's interpolation is tested against these numbers.
# * tile_cases: our own encoder and decoder, bit-exact (the zlib payload bytes are not compared:
#   they depend on the zlib build; what they decode to is).
TOLERANCE = {"stretch_cases.json": (1e-12, 1e-15), "wcs_cases.json": (1e-12, 1e-12),
             "quantile_cases.json": (1e-12, 0.0),
             "tile_cases.json": (0.0, 0.0)}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_committed_fixture_is_current(name):
    data = json.loads(json.dumps(BUILDERS[name]()))
    path = FIXTURES / name
    if os.environ.get("SNAPSCOPE_REGEN_FIXTURES"):
        path.write_text(json.dumps(data, indent=1) + "\n")
    committed = json.loads(path.read_text())
    rtol, atol = TOLERANCE[name]
    assert_matches(comparable(committed), comparable(data), rtol, atol,
                   f"regenerate {path.name} with SNAPSCOPE_REGEN_FIXTURES=1")


def assert_matches(committed, fresh, rtol: float, atol: float, hint: str, where: str = "") -> None:
    """Structure, ints and strings equal; floats within ``rtol``/``atol`` (NaN only with NaN)."""
    if isinstance(committed, dict):
        assert isinstance(fresh, dict) and committed.keys() == fresh.keys(), (where, hint)
        for k in committed:
            assert_matches(committed[k], fresh[k], rtol, atol, hint, f"{where}.{k}")
    elif isinstance(committed, list):
        assert isinstance(fresh, list) and len(committed) == len(fresh), (where, hint)
        for k, (a, b) in enumerate(zip(committed, fresh, strict=True)):
            assert_matches(a, b, rtol, atol, hint, f"{where}[{k}]")
    elif isinstance(committed, float) or isinstance(fresh, float):
        assert isinstance(fresh, int | float) and isinstance(committed, int | float), (where, hint)
        assert math.isclose(committed, fresh, rel_tol=rtol, abs_tol=atol) or committed == fresh, (
            f"{where}: committed {committed!r}, now {fresh!r}; {hint}")
    else:
        assert committed == fresh, f"{where}: committed {committed!r}, now {fresh!r}; {hint}"


def comparable(fixture: dict) -> dict:
    """The fixture without compressed payloads (their bytes depend on the zlib build; the
    tile test checks what they decode to)."""
    cases = [{k: v for k, v in c.items() if k != "payload"} for c in fixture["cases"]]
    return {**fixture, "cases": cases}


def test_fixture_comparison_catches_a_change_beyond_the_tolerance():
    committed = comparable(json.loads((FIXTURES / "stretch_cases.json").read_text()))
    fresh = json.loads(json.dumps(committed))
    fresh["cases"][4]["s"][6] *= 1 + 1e-15  # within 1e-12: a last-bit drift
    assert_matches(committed, fresh, *TOLERANCE["stretch_cases.json"], "")
    fresh["cases"][4]["s"][6] *= 1 + 1e-9
    with pytest.raises(AssertionError, match=r"cases\[4\]\.s\[6\]"):
        assert_matches(committed, fresh, *TOLERANCE["stretch_cases.json"], "")
    fresh = json.loads(json.dumps(committed))
    fresh["cases"][4]["index"][3] += 1
    with pytest.raises(AssertionError, match="index"):
        assert_matches(committed, fresh, *TOLERANCE["stretch_cases.json"], "")


def test_committed_tiles_decode_to_the_bits_of_todays_encoder():
    """The JS test decodes these payloads; ``decode_tile`` must give the same bits."""
    committed = json.loads((FIXTURES / "tile_cases.json").read_text())["cases"]
    sources = tile_sources()
    assert [c["label"] for c in committed] == list(sources)
    for case in committed:
        values, dtype = sources[case["label"]]
        header, payload = encode_tile(values, dtype)
        bits = decode_tile(header, payload).view(np.uint32).ravel().tolist()
        packed = base64.b64decode(case["payload"])
        assert decode_tile(case["header"], packed).view(np.uint32).ravel().tolist() == bits
        assert case["bits"] == bits


@pytest.mark.parametrize("case", build_stretch_cases()["cases"], ids=lambda c: c["label"])
def test_render_rgba_agrees_with_the_stretch_cases(case):

    lut = np.asarray(colormap_lut("viridis"))
    rgba = np.asarray(
        render_rgba(np.array([VALUES], np.float32), VMIN, VMAX, STRETCHES[case["label"]], "viridis")
    )
    for k, index in enumerate(case["index"]):
        if index is not None:
            assert list(rgba[0, k][:3]) == list(lut[index][:3]), (case["label"], VALUES[k])


@pytest.mark.parametrize("case", build_wcs_cases()["cases"], ids=lambda c: c["label"])
def test_wcs_grid_interpolation_is_within_a_milliarcsecond(case):
    grid = {
        **case["grid"],
        "xi": np.array(case["grid"]["xi"]).tobytes(),
        "eta": np.array(case["grid"]["eta"]).tobytes(),
    }
    ra, dec = grid_pixel_to_sky(grid, case["x"], case["y"])
    r1, d1, r2, d2 = map(np.radians, (ra, dec, case["ra"], case["dec"]))
    hav = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    sep_arcsec = np.degrees(2 * np.arcsin(np.sqrt(hav))) * 3600
    assert sep_arcsec.max() < 1e-3
    assert case["grid"]["max_error_arcsec"] < 1e-3
