"""CompareView in Chromium (Voila): four panes on different pixel grids (rotated, shifted,
scaled) locked on the sky. A drag in one pane moves every pane in the same animation frame with
no websocket message; blinking switches in one frame and sends no pixels; one crosshair shows in
every pane at the cursor's sky position."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from servers import save_screenshot, voila_fixture, wait_for
from widget_page import (
    COMPARE_CELL,
    COMPARE_GRIDS,
    READ_PIXELS,
    fail_on_traceback,
    settled,
    state,
)

pytestmark = pytest.mark.browser

PANES = len(COMPARE_GRIDS)
#: Sky agreement asked of the panes (arcsec).
SKY_TOL = 0.01

#: Before a drag: every pointermove that reaches the window schedules a look, in the same
#: animation frame as the viewers' repaints (registered after theirs), at every pane and at the
#: websocket counters.
PROBE = """() => {
  const roots = [...document.querySelectorAll('.snapscope-compare .snapscope-viewer')];
  const look = () => ({ sent: window.__wsSent.length, received: window.__wsFrames.length,
    frames: roots.map((r) => Number(r.dataset.frames)), views: roots.map((r) => r.dataset.view) });
  window.__probe = { before: look(), moves: [] };
  window.addEventListener('pointermove', () => {
    const atMove = look();
    requestAnimationFrame(() => window.__probe.moves.push({ atMove, inFrame: look() }));
  });
}"""

#: Click Blink (or press b in the shown pane) and look one animation frame later.
BLINK = """async (key) => {
  const root = document.querySelector('.snapscope-compare');
  if (key) document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key: 'b', bubbles: true }));
  else root.querySelector('.snapscope-compare-bar button').click();
  const shown = Number(root.dataset.shown);
  await new Promise((r) => requestAnimationFrame(r));
  const slots = [...root.querySelectorAll('.snapscope-compare-slot')];
  const viewer = slots[shown].querySelector('.snapscope-viewer').dataset;
  return { shown, visible: slots.map((s) => getComputedStyle(s).visibility === 'visible'),
           missing: viewer.missing, drawn: Number(viewer.drawn) };
}"""


voila = voila_fixture("compare.ipynb", [COMPARE_CELL])


def open_page(page, voila) -> list[dict]:
    page.set_viewport_size({"width": 1100, "height": 950})
    page.goto(voila.url(), wait_until="domcontentloaded")

    def ready():
        fail_on_traceback(page)
        states = [settled(page, i) for i in range(PANES)]
        return all(states) and states

    return wait_for(ready, timeout=120, what="four settled panes")


def python_state(page) -> dict:
    return json.loads(page.locator(".python-views").text_content())


def sky_of(pane: int, x: float, y: float) -> tuple[float, float]:
    """Sky position (degrees) of a pixel of a pane, by astropy (independent of the JS grid)."""
    ra, dec = COMPARE_GRIDS[pane][0].pixel_to_world_values(x, y)
    return float(ra), float(dec)


def separation(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Arcsec between two (ra, dec) in degrees."""
    dra = (a[0] - b[0]) * math.cos(math.radians(b[1]))
    return math.hypot(dra, a[1] - b[1]) * 3600


def centres(views: list, dx: float = 0.0, dy: float = 0.0) -> list[tuple[float, float]]:
    """Sky under the point (dx, dy) CSS px from each pane's centre (y down; turned views)."""
    out = []
    for i, v in enumerate(views):
        c, s = math.cos(v.get("rot", 0)), math.sin(v.get("rot", 0))
        u, w = dx / v["zoom"], -dy / v["zoom"]
        out.append(sky_of(i, v["cx"] + c * u + s * w, v["cy"] - s * u + c * w))
    return out


def test_drag_moves_every_pane_in_one_frame_without_the_kernel(page, voila):
    states = open_page(page, voila)
    start = centres([s["view"] for s in states])
    assert max(separation(c, start[0]) for c in start) < SKY_TOL, start

    box = page.locator(".snapscope-compare canvas.snapscope-overlay").first.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.evaluate(PROBE)
    page.mouse.down()
    page.mouse.move(x0 + 40, y0 + 25, steps=4)
    page.mouse.up()
    probe = wait_for(
        lambda: (p := page.evaluate("window.__probe")) and len(p["moves"]) >= 4 and p,
        what="the probe's frames",
    )
    first = probe["moves"][0]
    # The first move: every pane repainted once, in that frame, with a new view.
    now, then, before = first["inFrame"], first["atMove"], probe["before"]
    assert [a - b for a, b in zip(now["frames"], then["frames"], strict=True)] == [1] * PANES
    assert all(a != b for a, b in zip(now["views"], before["views"], strict=True)), first
    for move in probe["moves"]:
        assert move["inFrame"]["sent"] == move["atMove"]["sent"], move  # no kernel message
        views = centres([json.loads(v) for v in move["inFrame"]["views"]])
        assert max(separation(c, views[0]) for c in views) < SKY_TOL, views

    # Where the drag ended: the panes agree with each other, and Python's views follow.
    end = centres([json.loads(state(page, i)["view"]) for i in range(PANES)])
    assert separation(end[0], start[0]) > 1.0  # it did move (~4.4″ at 0.11″/px)
    assert max(separation(c, end[0]) for c in end) < SKY_TOL, end
    # ... and every point of the panes: same scale and orientation (north up) too.
    views = [json.loads(state(page, i)["view"]) for i in range(PANES)]
    for dx, dy in ((120, 0), (0, -100), (-90, 70)):
        points = centres(views, dx, dy)
        assert max(separation(p, points[0]) for p in points) < SKY_TOL, (dx, dy, points)

    def python_views():
        got = python_state(page)["centres"]
        return all(separation(tuple(g), e) < SKY_TOL for g, e in zip(got, end, strict=True))

    wait_for(python_views, what="Python's get_viewport to follow the browser")


def test_blink_switches_in_one_frame_and_sends_no_pixels(page, voila):
    open_page(page, voila)
    received = [state(page, i)["received"] for i in range(PANES)]
    bytes_before = page.evaluate("window.__wsFrames.reduce((a, b) => a + b, 0)")
    # First cycle with the Blink button, second with the b key of the shown pane.
    for key in (False, True):
        for k in range(PANES):
            got = page.evaluate(BLINK, key)
            assert got["shown"] == k, got
            assert got["visible"] == [i == k for i in range(PANES)], got
            assert got["missing"] == "0" and got["drawn"] > 0, got  # a whole picture at once
    page.keyboard.press("b")  # a real key press, from the focused pane
    wait_for(lambda: page.locator(".snapscope-compare").get_attribute("data-shown") == "0",
             what="b from the keyboard")
    page.wait_for_timeout(300)  # let any (unexpected) tile arrive before counting
    assert [state(page, i)["received"] for i in range(PANES)] == received
    sent = page.evaluate("window.__wsFrames.reduce((a, b) => a + b, 0)") - bytes_before
    assert sent < 2_000, sent  # no tile (one 256² float16 tile is 131 kB)
    page.keyboard.press("Escape")
    wait_for(lambda: page.locator(".snapscope-compare").get_attribute("data-shown") == "-1",
             what="all panes again")


def test_a_display_edit_in_one_pane_applies_to_every_pane(page, voila):
    states = open_page(page, voila)
    centre = [[s["width"] // 2 + 7, s["height"] // 2 + 5] for s in states]
    viewer = page.locator(".snapscope-compare .snapscope-viewer").first
    viewer.get_by_role("button", name="Display").click()
    viewer.get_by_label("Colormap").select_option("viridis")
    # each pane applied the edit in the page (its edit -> frame counter) and shows colour
    wait_for(lambda: all(state(page, i).get("edits") == "1" for i in range(PANES)),
             what="the edit in every pane")

    def coloured():
        rgba = [page.evaluate(READ_PIXELS, [i, [centre[i]]])[0] for i in range(PANES)]
        return all(p[0] != p[1] or p[1] != p[2] for p in rgba)

    wait_for(coloured, what="viridis in every pane")
    wait_for(lambda: python_state(page)["cmaps"] == ["viridis"] * PANES,
             what="Python's get_colormap of every pane")


def test_crosshair_in_every_pane_at_the_cursor_sky_position(page, voila, screenshots):
    open_page(page, voila)
    box = page.locator(".snapscope-compare canvas.snapscope-overlay").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.43, box["y"] + box["height"] * 0.61)

    def crosshairs():
        s = [state(page, i) for i in range(PANES)]
        return all(x.get("crosshair") for x in s) and s

    states = wait_for(crosshairs, what="a crosshair in every pane")
    cursor = sky_of(0, *(float(v) for v in states[0]["cursor"].split(",")))
    for i, s in enumerate(states):
        x, y = (float(v) for v in s["crosshair"].split(","))
        assert separation(sky_of(i, x, y), cursor) < SKY_TOL, (i, s)
        # each pane's own readout: its pixel, value and RA/Dec at the crosshair
        ra, dec = (float(v) for v in re.findall(r"\(([-\d.]+)°\)", s["status"]))
        assert separation((ra, dec), cursor) < 0.05, s["status"]  # 6 decimals of a degree
        assert f"x {round(x)}  y {round(y)}" in s["status"]
    assert np.isfinite(float(s["status"].split("|")[1].strip().lstrip("≈").split()[0]))
    save_screenshot(page.locator(".snapscope-compare"), screenshots / "compare_view.png")
