"""ImageWidget in a real browser (Debian Chromium driven by Playwright) through Voila."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import widget_page
from servers import save_screenshot, voila_fixture, voila_notebook_server, wait_for
from widget_page import (
    BLINK_CELL,
    RAMP_CELL,
    READ_PIXELS,
    SHAPE,
    expected_gray,
    fail_on_traceback,
    ramp_wcs,
    settled,
    state,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def voila(tmp_path_factory, jupyter_env):
    server = voila_notebook_server(tmp_path_factory.mktemp("voila"), "ramp.ipynb", [RAMP_CELL],
                                   jupyter_env)
    yield server
    server.stop()


blink_voila = voila_fixture("blink.ipynb", [BLINK_CELL])


def open_page(page, voila):
    page.goto(voila.url(), wait_until="domcontentloaded")

    def ready():
        fail_on_traceback(page)
        return settled(page, 0) and settled(page, 1)

    return wait_for(ready, timeout=90, what="both viewers")


def check_pixels(page, index: int, s: dict) -> None:
    w, h, v = s["width"], s["height"], s["view"]
    # Screen pixels over the inner part of the image (and inside the canvas).
    points = []
    for fx in (0.2, 0.5, 0.8):
        for fy in (0.2, 0.5, 0.8):
            sx = w / 2 + (fx * SHAPE[1] - v["cx"]) * v["zoom"]
            sy = h / 2 - (fy * SHAPE[0] - v["cy"]) * v["zoom"]
            if 0 <= sx < w and 0 <= sy < h:
                points.append((int(sx), int(sy)))
    assert len(points) >= 3
    got = page.evaluate(READ_PIXELS, [index, points])
    for (sx, sy), rgba in zip(points, got, strict=True):
        gray = expected_gray(s["view"], int(s["level"]), (w, h), int(sx), int(sy))
        assert abs(rgba[0] - gray) <= 1 and rgba[0] == rgba[1] == rgba[2], repr(
            (index, sx, sy, rgba, gray, s)
        )


def test_renders_the_known_image(page, voila, screenshots):
    open_page(page, voila)
    for index, renderer in ((0, "webgl2"), (1, "canvas")):
        s = settled(page, index)
        assert s["renderer"] == renderer
        check_pixels(page, index, s)
    save_screenshot(page, screenshots / "voila_two_viewers.png")


def test_pan_requests_new_tiles_and_follows_without_the_kernel(page, voila):
    open_page(page, voila)
    page.locator(".snapscope-viewer").first.focus()
    page.keyboard.press("1")  # one image pixel per screen pixel: level 0
    s = wait_for(lambda: (x := settled(page)) and x["level"] == "0" and x, what="level 0")
    requested = int(s["requested"])
    box = page.locator("canvas.snapscope-overlay").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx, cy + 200, steps=5)  # drag the image down: rows above y = 512 come in
    moved = json.loads(state(page)["view"])  # the picture followed the mouse at once
    page.mouse.up()
    assert moved["cy"] == pytest.approx(s["view"]["cy"] + 200 / s["view"]["zoom"], abs=1e-6)
    s2 = wait_for(
        lambda: (x := settled(page)) and int(x["requested"]) > requested and x,
        what="new tiles after panning",
    )
    check_pixels(page, 0, s2)


def test_stretch_change_repaints_with_no_pixels_on_the_wire(page, voila):
    open_page(page, voila)
    before = page.evaluate(READ_PIXELS, [0, [[485, 200]]])[0]
    frames_before = page.evaluate("window.__wsFrames.length")
    received = state(page)["received"]
    t0 = time.monotonic()
    page.get_by_role("button", name="log stretch").click()
    wait_for(
        lambda: page.evaluate(READ_PIXELS, [0, [[485, 200]]])[0] != before,
        what="the repaint",
        interval=0.02,
    )
    elapsed = time.monotonic() - t0
    page.wait_for_timeout(300)  # let any (unexpected) tile arrive before counting
    frames = page.evaluate(f"window.__wsFrames.slice({frames_before})")
    assert state(page)["received"] == received
    assert sum(frames) < 20_000, frames  # trait updates only; one 256² float16 tile is 131 kB
    assert elapsed < 5


def test_cursor_readout_shows_ra_dec_of_the_pixel(page, voila):
    open_page(page, voila)
    box = page.locator("canvas.snapscope-overlay").first.bounding_box()
    page.mouse.move(box["x"] + 137.3, box["y"] + 91.7)
    s = wait_for(lambda: (x := state(page)) and x.get("cursorSky") and x, what="cursor readout")
    x, y = (float(v) for v in s["cursor"].split(","))
    ra, dec = (float(v) for v in s["cursorSky"].split(","))
    tra, tdec = ramp_wcs().pixel_to_world_values(x, y)
    sep = np.hypot((ra - tra) * np.cos(np.radians(tdec)), dec - tdec) * 3600
    assert sep < 1e-3  # arcsec
    assert f"({tra:.6f}°)" in s["status"] and f"({tdec:.6f}°)" in s["status"]
    assert f"x {round(x)}  y {round(y)}" in s["status"]


def test_click_reaches_python_on_click_with_sky_position(page, voila, jupyter_env):
    log = Path(jupyter_env["SNAPSCOPE_TEST_CLICK_LOG"])
    open_page(page, voila)
    before = log.read_text().count("\n") if log.exists() else 0
    box = page.locator("canvas.snapscope-overlay").first.bounding_box()
    page.mouse.click(box["x"] + 411.3, box["y"] + 222.6)
    lines = wait_for(lambda: log.exists() and log.read_text().splitlines()[before:], what="a click")
    event = json.loads(lines[-1])
    x, y = (float(v) for v in state(page)["cursor"].split(","))
    assert event["image_label"] == "ramp"
    assert (event["x"], event["y"]) == (pytest.approx(x, abs=1e-9), pytest.approx(y, abs=1e-9))
    ra, dec = ramp_wcs().pixel_to_world_values(x, y)
    assert (event["ra"], event["dec"]) == (pytest.approx(float(ra)), pytest.approx(float(dec)))


def python_view(page) -> dict:
    return json.loads(page.locator(".python-view").text_content())


def test_python_and_key_blink_agree(page, blink_voila):
    """The b key (a blink in the browser) and ``ImageWidget.blink()`` (in Python) show the
    other image on the same sky centre at the same angular scale, and Python knows the view."""
    page.goto(blink_voila.url(), wait_until="domcontentloaded")
    wait_for(lambda: fail_on_traceback(page) or settled(page), timeout=90, what="the viewer")
    box = page.locator("canvas.snapscope-overlay").bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 70, y0 - 40, steps=4)  # away from the fitted view
    page.mouse.up()

    def agreed(label: str):
        """The settled view once Python holds it too (the browser writes it 120 ms later)."""
        s, p = settled(page), python_view(page)
        v = s and s["view"]
        if v and p["label"] == label and abs(p["x"] - v["cx"]) + abs(p["y"] - v["cy"]) < 1e-6:
            return v
        return None

    start = wait_for(lambda: agreed("coarse"), what="the dragged view in Python")
    grids = widget_page.BLINK_GRIDS
    sky = grids["coarse"].pixel_to_world(start["cx"], start["cy"])
    # Python first: its stored view of "fine" is still the fitted one, which it must not show.
    page.get_by_role("button", name="blink from Python").click()
    by_python = wait_for(lambda: agreed("fine"), what="Python's blink")
    page.locator(".snapscope-viewer").focus()
    page.keyboard.press("b")
    back = wait_for(lambda: agreed("coarse"), what="the key's blink back")
    assert (back["cx"], back["cy"]) == (pytest.approx(start["cx"], abs=1e-3),
                                        pytest.approx(start["cy"], abs=1e-3))
    page.keyboard.press("b")
    by_key = wait_for(lambda: agreed("fine"), what="the key's blink, in Python too")

    assert by_python["key"] == by_key["key"]
    assert (by_python["cx"], by_python["cy"]) == (pytest.approx(by_key["cx"], abs=1e-3),
                                                  pytest.approx(by_key["cy"], abs=1e-3))
    assert by_python["zoom"] == pytest.approx(by_key["zoom"], rel=1e-5)
    # both on the sky the view showed, at its angular scale (0.15″ -> 0.11″ pixels)
    for v in (by_key, by_python):
        assert grids["fine"].pixel_to_world(v["cx"], v["cy"]).separation(sky).arcsec < 1e-3
        assert v["zoom"] == pytest.approx(start["zoom"] * 0.11 / 0.15, rel=1e-5)
