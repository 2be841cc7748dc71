"""The viewer's display control and colorbar in Chromium (Voila): cuts, stretch and colormap
change in the browser with no tile on the wire, Python's getters follow, the colorbar's labels
are the cuts."""

from __future__ import annotations

import json
import math

import pytest
from servers import save_screenshot, voila_notebook_server, wait_for
from widget_page import READ_PIXELS, fail_on_traceback, settled, state

pytestmark = pytest.mark.browser

# The simulated star field, and what Python's AIDA getters say (updated on every display change).
CONTROL_CELL = """
import json
import numpy as np
import ipywidgets as ipw
from snapscope.image import Numpy2DImage
from snapscope.widgets import ImageWidget
import widget_page

data, flags, wcs, catalog = widget_page.star_field()
w = ImageWidget(height="360px")
w.load_image(Numpy2DImage(data=data, wcs=wcs), image_label="simulated field")
report = ipw.HTML()

def show(_=None):
    cuts = w.get_cuts()
    vmin, vmax = (float(v) for v in cuts.get_limits(np.asarray(w.get_image().data)))
    report.value = "<pre class='python-state'>" + json.dumps({
        "cuts": type(cuts).__name__, "percentile": getattr(cuts, "upper_percentile", None),
        "limits": [vmin, vmax], "stretch": type(w.get_stretch()).__name__,
        "colormap": w.get_colormap()}) + "</pre>"

show()
w.observe(show, "_displays")
ipw.VBox([w, report])
"""

#: Points on the image (fitted to the middle of the ~980 × 360 px canvas) compared before and
#: after each change.
POINTS = [[x, y] for x in (420, 490, 560) for y in (100, 180, 260)]


@pytest.fixture(scope="module")
def voila(tmp_path_factory, jupyter_env):
    server = voila_notebook_server(
        tmp_path_factory.mktemp("voila"), "control.ipynb", [CONTROL_CELL], jupyter_env
    )
    yield server
    server.stop()


def python_state(page) -> dict | None:
    text = page.locator(".python-state").text_content(timeout=1000)
    return json.loads(text) if text else None


def pixels(page) -> list:
    return page.evaluate(READ_PIXELS, [0, POINTS])


def colorbar(page) -> dict:
    return page.evaluate("""() => { const c = document.querySelector('.snapscope-colorbar');
      return {...c.dataset, hidden: c.hidden, ticks: [...c.querySelectorAll('span')].map(
        (s) => ({label: s.textContent, value: Number(s.dataset.value), left: s.style.left}))}; }""")


def change(page, do, what: str) -> float:
    """Do a control change; wait until the canvas shows it; return the edit → frame time (ms)."""
    before, edits = pixels(page), int(state(page).get("edits", 0))
    do()
    wait_for(lambda: pixels(page) != before, timeout=10, what=what, interval=0.02)
    s = wait_for(lambda: (x := state(page)) and int(x.get("edits", 0)) > edits and x, what=what)
    return float(s["editToFrameMs"])


def test_control_repaints_without_tiles_python_follows_and_colorbar_labels_the_cuts(
    page, voila, screenshots
):
    page.goto(voila.url(), wait_until="domcontentloaded")
    wait_for(lambda: fail_on_traceback(page) or settled(page), timeout=90, what="the viewer")
    wait_for(lambda: python_state(page), what="the Python state")
    s0 = state(page)
    frames0 = page.evaluate("window.__wsFrames.length")
    bar0 = colorbar(page)
    assert not bar0["hidden"] and bar0["ticks"] and bar0["stretch"] == "linear"

    panel = page.locator(".snapscope-display")
    assert panel.is_hidden()
    page.get_by_role("button", name="Display").click()
    assert panel.is_visible()
    times = {
        "stretch": change(page, lambda: page.get_by_label("Stretch").select_option("asinh"),
                          "the asinh stretch"),
        "colormap": change(page, lambda: page.get_by_label("Colormap").select_option("viridis"),
                           "the viridis colormap"),
        "cuts": change(page, lambda: page.get_by_label("Cuts").select_option("99.9"),
                       "the 99.9 % cuts"),
    }
    r, g, b, _ = pixels(page)[4]
    assert not r == g == b  # viridis, not gray

    # Python's getters follow, with the very limits the browser computed from the quantiles.
    py = wait_for(
        lambda: (p := python_state(page)) and p["stretch"] == "AsinhStretch"
        and p["colormap"] == "viridis" and p["cuts"] == "PercentileInterval" and p,
        what="Python's getters",
    )
    assert py["percentile"] == pytest.approx(99.95)
    bar = wait_for(lambda: (c := colorbar(page)) and c["cmap"] == "viridis" and c, what="bar")
    vmin, vmax = float(bar["vmin"]), float(bar["vmax"])
    assert (vmin, vmax) == (pytest.approx(py["limits"][0], rel=1e-12),
                            pytest.approx(py["limits"][1], rel=1e-12))
    assert bar["stretch"] == "asinh" and len(bar["ticks"]) >= 2
    for tick in bar["ticks"]:
        assert vmin <= tick["value"] <= vmax
        assert float(tick["label"]) == tick["value"]
        at = float(tick["left"].rstrip("%")) / 100
        assert at == pytest.approx((tick["value"] - vmin) / (vmax - vmin), abs=1e-6)  # CSS % precision

    # Typed limits: manual cuts in Python, labels between them.
    page.get_by_label("max", exact=True).fill("1150")
    times["typed"] = change(page, lambda: page.get_by_label("max", exact=True).press("Enter"), "typed max")
    py = wait_for(lambda: (p := python_state(page)) and p["cuts"] == "ManualInterval" and p,
                  what="manual cuts in Python")
    assert py["limits"] == [pytest.approx(vmin, rel=1e-12), 1150.0]
    bar = wait_for(lambda: (c := colorbar(page)) and c["vmax"] == "1150" and c, what="new bar")
    assert [t["value"] for t in bar["ticks"]][-1] <= 1150
    assert page.get_by_label("Cuts").input_value() == "custom"

    # No pixels on the wire: no tile requested or received, only small trait updates.
    s1 = state(page)
    assert (s1["requested"], s1["received"]) == (s0["requested"], s0["received"])
    frames = page.evaluate(f"window.__wsFrames.slice({frames0})")
    assert sum(frames) < 40_000 and max(frames) < 8_000, frames  # a 256² float16 tile is 131 kB
    print(f"\nedit -> frame ms {times}; {len(frames)} frames, {sum(frames)} bytes received")
    assert all(math.isfinite(t) and t < 1000 for t in times.values())
    save_screenshot(page.locator(".snapscope-viewer"), screenshots / "display_control.png")
