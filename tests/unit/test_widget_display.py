"""The viewer's display control seen from Python: the browser writes ``_displays`` back, the
image's entry stays the one owner of cuts, stretch and colormap (``widgets/_display.py``)."""

import numpy as np
import pytest
from astropy.visualization import (
    AsinhStretch,
    AsymmetricPercentileInterval,
    LogStretch,
    ManualInterval,
    MinMaxInterval,
    PercentileInterval,
    ZScaleInterval,
)
from test_widget_helpers import RecordingWidget

from snapscope.tiles import COLORMAPS
from snapscope.widgets._pyramids import colormap_lut
from snapscope.widgets._records import to_json
from snapscope.widgets._state import ManualCuts
from snapscope.widgets._traits import (
    CUT_PERCENTILES,
    QUANTILE_PERCENTILES,
    compute_limits,
    cuts_spec,
    interval_from_spec,
    stretch_from_spec,
    stretch_spec,
)


@pytest.fixture
def widget():
    """A fresh widget showing a skewed 300 × 520 sky (noise plus bright pixels)."""
    rng = np.random.default_rng(8)
    sky = (1000 + 10 * rng.standard_normal((300, 520))).astype(np.float32)
    sky.flat[rng.integers(0, sky.size, 400)] += 10 ** rng.uniform(2, 4, 400).astype(np.float32)
    w = RecordingWidget()
    w.load_image(sky, image_label="sky")
    w.sent.clear()
    return w


def state_updates(w):
    """Record the state updates the widget sends to the browser."""
    out = []
    w.comm.send = lambda data=None, metadata=None, buffers=None: out.append(data)
    return out


def browser_edit(w, **changes):
    """Send ``_displays`` as the display control does: the whole JSON, one display changed."""
    displays = to_json(w._displays)
    displays[w._displayed].update(changes)
    w.set_state({"_displays": displays})


def test_display_trait_names_the_interval_behind_the_limits():
    assert cuts_spec(None) == {"kind": "percentile", "lower": 0.5, "upper": 99.5}
    assert cuts_spec(PercentileInterval(99.9)) == {
        "kind": "percentile", "lower": (100 - 99.9) / 2, "upper": 99.95}
    assert cuts_spec(MinMaxInterval()) == {"kind": "percentile", "lower": 0.0, "upper": 100.0}
    assert cuts_spec(ManualInterval(1, 2)) == {"kind": "manual"}
    assert cuts_spec(ZScaleInterval()) == {"kind": "other", "name": "ZScaleInterval"}
    # a sub-sampled percentile is random: the browser cannot reproduce it
    assert cuts_spec(PercentileInterval(99, n_samples=100))["kind"] == "other"


@pytest.mark.parametrize("pct", CUT_PERCENTILES)
def test_presets_round_trip_and_are_knots_of_the_quantile_table(widget, pct):
    lower, upper = (100 - pct) / 2, (100 + pct) / 2
    interval = interval_from_spec({"kind": "percentile", "lower": lower, "upper": upper}, 0, 0)
    assert type(interval) is (MinMaxInterval if pct == 100 else PercentileInterval)
    assert cuts_spec(interval) == {"kind": "percentile", "lower": lower, "upper": upper}
    table = widget._images[widget._displayed].quantiles
    q = np.frombuffer(table.q, "<f8")
    sample = widget._entries["sky"].cache["sample"]
    # The browser reads the knots: exactly Python's limits for the same interval.
    got = (q[table.p.index(lower)], q[table.p.index(upper)])
    assert got == tuple(interval.get_limits(sample))
    assert table.p == QUANTILE_PERCENTILES and len(table.q) == 8 * len(table.p)


def test_asymmetric_and_manual_specs_and_bad_ones():
    spec = {"kind": "percentile", "lower": 1.0, "upper": 99.5}
    assert isinstance(interval_from_spec(spec, 0, 0), AsymmetricPercentileInterval)
    manual = interval_from_spec({"kind": "manual"}, 3, 7.5)
    assert (manual.vmin, manual.vmax) == (3.0, 7.5)
    for bad, vmin, vmax, match in [
        ({"kind": "manual"}, 7, 3, "vmin < vmax"),
        ({"kind": "manual"}, float("nan"), 3, "finite"),
        ({"kind": "percentile", "lower": 5, "upper": 101}, 0, 0, "<= 100"),
        ({"kind": "other", "name": "ZScaleInterval"}, 0, 0, "'percentile' or 'manual'"),
        (None, 0, 0, "'percentile' or 'manual'"),
    ]:
        with pytest.raises(ValueError, match=match):
            interval_from_spec(bad, vmin, vmax)


@pytest.mark.parametrize(
    "stretch", [AsinhStretch(0.1), AsinhStretch(0.02), LogStretch(), LogStretch(50)]
)
def test_named_stretches_round_trip(stretch):
    spec = stretch_spec(stretch)
    back = stretch_from_spec(spec)
    assert type(back) is type(stretch) and stretch_spec(back) == spec


def test_lut_and_unknown_stretches_are_refused():
    with pytest.raises(ValueError, match="only choose"):
        stretch_from_spec({"name": "lut", "params": [0, 0]})
    with pytest.raises(ValueError, match="two numbers"):
        stretch_from_spec({"name": "log", "params": [1000]})


def test_control_edit_updates_the_entry_and_resends_python_limits(widget):
    w = widget
    updates = state_updates(w)
    key = w._displayed
    browser_edit(
        w,
        stretch={"name": "asinh", "params": [0.1, 0], "lut": None},
        cmap="viridis_r",
        cmap_lut=colormap_lut("viridis_r"),
        cuts={"kind": "percentile", "lower": (100 - 99.9) / 2, "upper": 99.95},
        vmin=0.0,  # what the browser computed does not matter: Python's limits win
        vmax=1.0,
    )
    assert isinstance(w.get_stretch(), AsinhStretch) and w.get_stretch().a == 0.1
    assert w.get_colormap() == "viridis_r"
    cuts = w.get_cuts()
    assert isinstance(cuts, PercentileInterval)
    assert (cuts.lower_percentile, cuts.upper_percentile) == ((100 - 99.9) / 2, 99.95)
    d = w._displays[key]
    assert (d.vmin, d.vmax) == tuple(cuts.get_limits(w._entries["sky"].cache["sample"]))
    assert d.cmap_lut == colormap_lut("viridis_r")
    assert w.sent == []  # no custom message, so no tile
    (update,) = [u for u in updates if u and u.get("method") == "update"]
    assert set(update["state"]) == {"_displays"}  # the normalised state; no echo_update
    assert not [u for u in updates if u and u.get("method") == "echo_update"]


def test_typed_limits_become_manual_cuts(widget):
    browser_edit(widget, cuts={"kind": "manual"}, vmin=995.0, vmax=1040.5)
    cuts = widget.get_cuts()
    assert isinstance(cuts, ManualInterval) and (cuts.vmin, cuts.vmax) == (995.0, 1040.5)
    d = widget._displays[widget._displayed]
    assert (d.vmin, d.vmax, d.cuts) == (995.0, 1040.5, ManualCuts(kind="manual"))


def test_unchanged_fields_keep_pythons_objects(widget):
    zscale = ZScaleInterval()
    widget.set_cuts(zscale)
    widget.set_stretch(LogStretch(200))
    browser_edit(widget, cmap="magma", cmap_lut=colormap_lut("magma"))
    assert widget.get_cuts() is zscale  # "other" cuts the browser cannot name stay as they are
    assert isinstance(widget.get_stretch(), LogStretch) and widget.get_stretch().a == 200
    assert widget.get_colormap() == "magma"


def test_a_bad_edit_changes_nothing_and_is_reported(widget):
    before = dict(widget._displays)
    browser_edit(widget, cmap="viridis", stretch={"name": "lut", "params": [0, 0], "lut": None})
    assert widget.get_colormap() is None  # the good half of the edit is not applied either
    assert "only choose" in widget._last_error and widget.errors
    assert widget._displays == before  # the browser is sent back to Python's state


def test_control_colormaps_are_sent_once_and_reverse_as_matplotlib(widget):
    tables = widget._colormaps
    assert tuple(tables) == COLORMAPS and all(len(v) == 1024 for v in tables.values())
    for name in COLORMAPS:  # the browser makes "_r" by reversing the 256 entries
        rgba = np.frombuffer(tables[name], np.uint8).reshape(256, 4)
        assert colormap_lut(f"{name}_r") == rgba[::-1].tobytes()


@pytest.mark.parametrize(
    "interval",
    [None, PercentileInterval(99.0), PercentileInterval(98.0), MinMaxInterval(),
     AsymmetricPercentileInterval(2.0, 97.0), ZScaleInterval()],
    ids=["default", "preset", "off-knot", "minmax", "asymmetric", "zscale"],
)
def test_limits_are_astropys_whether_from_the_table_or_the_sample(widget, interval):
    """One way to compute cuts: table knots, np.percentile or get_limits give astropy's limits."""
    entry = widget._entries["sky"]
    widget.set_cuts(AsymmetricPercentileInterval(0.5, 99.5) if interval is None else interval)
    expected = tuple(widget.get_cuts().get_limits(entry.cache["sample"]))
    entry.cuts = interval
    assert compute_limits(interval, entry.cache["sample"], widget._quantiles(entry)) == expected
    assert widget._limits(entry) == expected
