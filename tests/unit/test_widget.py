"""ImageWidget logic without a browser: the custom-message handler driven directly."""

import threading
import time

import numpy as np
import pytest
from astropy import units as u
from astropy.nddata import NDData
from astropy.visualization import LogStretch, SqrtStretch
from astropy.wcs import WCS
from test_widget_helpers import ImageWidget, RecordingWidget

from snapscope.image import Numpy2DImage
from snapscope.tiles import decode_tile
from snapscope.widgets import lock_views
from snapscope.widgets._protocol import MSG_ERROR, MSG_TILE


def tan_wcs(crval=(150.0, 2.0), crpix=(128.0, 128.0), scale=0.11 / 3600):
    w = WCS(naxis=2)
    w.wcs.crpix, w.wcs.crval = list(crpix), list(crval)
    w.wcs.cdelt = [-scale, scale]
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    return w


@pytest.fixture
def sky():
    """A fresh 300 × 520 float32 image (not square, not a multiple of the tile size)."""
    rng = np.random.default_rng(3)
    return (1000 + 10 * rng.standard_normal((300, 520))).astype(np.float32)


def tile_request(widget, rid, level=0, tx=0, ty=0, plane="data", key=None):
    widget.browser(
        {
            "kind": "tile",
            "id": rid,
            "key": key or widget._displayed,
            "plane": plane,
            "level": level,
            "tx": tx,
            "ty": ty,
        }
    )


def test_constructible_without_arguments_and_bundle_exists():
    w = ImageWidget()
    bundle = str(w._esm)
    assert "snapscope-viewer" in bundle  # the bundled front end itself, not a URL
    assert "http://" not in bundle and "https://" not in bundle and "import(" not in bundle
    assert w.image_labels == ()


def test_load_sends_one_state_update_with_the_overview_tile(sky):
    w = RecordingWidget()
    states = []
    w.comm.send = lambda data=None, metadata=None, buffers=None: states.append((data, buffers))
    w.load_image(sky)
    assert w.sent == []  # no message: the overview is part of the state
    updates = [(d, b) for d, b in states if d and d.get("method") == "update"]
    assert len(updates) == 1
    state, buffers = updates[0]
    assert {"_images", "_displayed", "_displays", "_view", "_overview"} <= set(state["state"])
    overview = w._overview
    assert overview.buffer in [bytes(b) for b in buffers]  # a binary buffer, not base64
    img = w._images[w._displayed]
    assert overview.kind == MSG_TILE and overview.id is None
    assert overview.key == w._displayed
    assert overview.level == len(img.levels) - 1 == 2
    expected = w.tiles.pyramid(w._entries["default"]).overview()
    np.testing.assert_array_equal(
        decode_tile(overview.to_json(), overview.buffer), expected.astype(np.float16).astype(np.float32)
    )


def test_overview_of_a_big_uncached_image_is_left_to_a_request(monkeypatch, sky):
    from snapscope.widgets import _tile_server

    monkeypatch.setattr(_tile_server, "EAGER_OVERVIEW_PIXELS", sky.size - 1)
    w = RecordingWidget()
    w.load_image(sky)
    assert w._overview is None and w.sent == []
    pyr = w.tiles.pyramid(w._entries["default"])
    tile_request(w, 1, level=pyr.top_level)
    # first a sampled preview (no id: it answers nothing), then the exact overview
    (preview, (preview_buf,)), (exact, (exact_buf,)) = w.sent
    assert preview["kind"] == exact["kind"] == MSG_TILE
    assert preview["preview"] is True and preview["id"] is None and "preview" not in exact
    assert exact["id"] == 1
    for content in (preview, exact):
        assert (content["level"], content["tx"], content["ty"]) == (pyr.top_level, 0, 0)
    f = 2**pyr.top_level
    sampled = sky[f // 2 :: f, f // 2 :: f][: preview["shape"][0], : preview["shape"][1]]
    np.testing.assert_array_equal(decode_tile(preview, preview_buf),
                                  sampled.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(decode_tile(exact, exact_buf),
                                  pyr.overview().astype(np.float16).astype(np.float32))
    w.sent.clear()
    tile_request(w, 2, level=pyr.top_level)  # cached now: the exact tile only
    ((again, _),) = w.sent
    assert again["id"] == 2 and "preview" not in again
    w.load_image(sky)  # the overview is cached now: cheap, so it is part of the state
    assert w._overview.level == pyr.top_level


def test_tile_request_is_answered_with_header_and_one_buffer(sky):
    w = RecordingWidget()
    w.load_image(sky)
    w.sent.clear()
    tile_request(w, 7, level=0, tx=1, ty=1)
    ((content, buffers),) = w.sent
    assert (content["id"], content["level"], content["tx"], content["ty"]) == (7, 0, 1, 1)
    h, w_ = content["shape"]
    assert (h, w_) == (300 - 256, 256)
    values = decode_tile(content, buffers[0])
    assert content["compression"] == "zlib" and len(buffers[0]) < 0.6 * h * w_ * 2
    np.testing.assert_allclose(values, sky[256:300, 256:512], rtol=1e-3)


@pytest.mark.parametrize(
    "content, match",
    [
        (
            {"kind": "tile", "id": 1, "key": "nope", "level": 0, "tx": 0, "ty": 0},
            "no image with key",
        ),
        (
            {"kind": "tile", "id": 2, "key": 5, "level": 0, "tx": 0, "ty": 0},
            "'key' must be a string",
        ),
        ({"kind": "tile", "id": 3, "key": None, "level": -1, "tx": 0, "ty": 0}, "must be"),
        ({"kind": "tile", "id": 4, "level": 9, "tx": 0, "ty": 0}, "level 9 does not exist"),
        ({"kind": "tile", "id": 5, "level": 0, "tx": 5, "ty": 0}, "outside level 0"),
        ({"kind": "tile", "id": 7, "level": 0, "tx": -1, "ty": 0}, "tile (-1, 0) is outside"),
        ({"kind": "tile", "id": 9, "level": -1, "tx": 0, "ty": 0}, "level -1 does not exist"),
        ({"kind": "tile", "id": 6, "level": 0, "tx": 0, "ty": 0, "plane": "mask"}, "no mask"),
        ({"kind": "bogus", "id": 8}, "unknown message kind"),
        ({"kind": "cancel", "ids": "all"}, "must be a list"),
        (["not", "a", "dict"], "unknown message kind"),
    ],
)
def test_bad_requests_get_an_error_reply(sky, content, match):
    w = RecordingWidget()
    w.load_image(sky)
    w.sent.clear()
    if isinstance(content, dict) and "key" not in content and content.get("kind") == "tile":
        content = {**content, "key": w._displayed}
    w.browser(content)
    ((reply, buffers),) = w.sent
    assert reply["kind"] == MSG_ERROR and buffers == []
    assert reply["id"] == (content.get("id") if isinstance(content, dict) else None)
    assert match in reply["error"]
    assert len(w.errors) == 1


def test_cancel_drops_requests_queued_for_the_worker_thread(sky):
    w = RecordingWidget()
    w.load_image(sky)
    w.sent.clear()
    gate, first_sent = threading.Event(), threading.Event()
    record = w.send

    def slow_send(content, buffers=None):
        first_sent.set()
        gate.wait(10)  # hold the worker inside the first reply
        record(content, buffers)

    w.send = slow_send
    w.tiles.threaded = True
    for rid in range(1, 5):
        tile_request(w, rid, level=0, tx=rid % 3, ty=0)
    assert first_sent.wait(10)
    w.browser({"kind": "cancel", "ids": [2, 3]})
    gate.set()
    wait = time.monotonic() + 10
    while len(w.replies(MSG_TILE)) < 2 and time.monotonic() < wait:
        time.sleep(0.01)
    assert [c["id"] for c, _ in w.replies(MSG_TILE)] == [1, 4]
    assert w.tiles.stats["cancelled"] == 2 and w.tiles.pending == 0
    w.close()


def test_custom_messages_arrive_through_the_ipywidgets_comm_path(sky):
    w = RecordingWidget()
    w.load_image(sky)
    w.sent.clear()
    msg = {"kind": "tile", "id": 3, "key": w._displayed, "level": 1, "tx": 0, "ty": 0}
    w._handle_msg({"content": {"data": {"method": "custom", "content": msg}}, "buffers": []})
    assert [c["id"] for c, _ in w.replies(MSG_TILE)] == [3]


def test_closed_comm_does_not_raise(sky):
    w = ImageWidget()
    w.load_image(sky)
    key = w._displayed
    w.close()
    w._on_browser_msg(w, {"kind": "tile", "id": 1, "key": key, "level": 0, "tx": 0, "ty": 0}, [])


def test_two_widgets_share_the_pyramid_of_one_image(sky):
    image = Numpy2DImage(data=sky, wcs=tan_wcs())
    a, b = RecordingWidget(), RecordingWidget()
    a.load_image(image)
    b.load_image(image)
    ea, eb = a._entries["default"], b._entries["default"]
    assert ea.key != eb.key
    assert a.tiles.pyramid(ea).key == b.tiles.pyramid(eb).key  # same cached tiles
    a.set_stretch(LogStretch())
    assert not isinstance(b.get_stretch(), LogStretch)  # display state is per widget


def test_all_nan_image():
    w = RecordingWidget()
    w.load_image(np.full((40, 60), np.nan, np.float32))
    assert w._displays[w._displayed].vmin < w._displays[w._displayed].vmax
    assert np.isnan(decode_tile(w._overview.to_json(), w._overview.buffer)).all()


@pytest.mark.parametrize("shape", [(1, 700), (700, 1), (1, 1)])
def test_one_by_n_images(shape):
    w = RecordingWidget()
    w.load_image(np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
    img = w._images[w._displayed]
    assert img.levels[0] == shape
    assert w.get_viewport()["fov"] == max(shape)
    tile_request(w, 1, level=0, tx=0, ty=0)
    assert w.replies(MSG_TILE)[-1][0]["id"] == 1


def test_no_wcs_image_has_no_grid_and_clicks_have_no_sky(sky):
    w = RecordingWidget()
    w.load_image(sky)
    assert w._images[w._displayed].wcs is None
    events = []
    w.on_click(events.append)
    w.browser({"kind": "click", "key": w._displayed, "x": 10.2, "y": 20.7})
    assert events == [{"x": 10.2, "y": 20.7, "ra": None, "dec": None, "image_label": "default"}]


def test_click_with_wcs_and_failing_callback_is_isolated(sky):
    w = RecordingWidget()
    wcs = tan_wcs()
    w.load_image(NDData(sky, wcs=wcs), image_label="sci")
    events = []
    w.on_click(lambda e: 1 / 0)
    w.on_click(events.append)
    w.browser({"kind": "click", "key": w._displayed, "x": 100.0, "y": 50.0})
    ra, dec = wcs.pixel_to_world_values(100.0, 50.0)
    assert events[0]["ra"] == pytest.approx(ra) and events[0]["dec"] == pytest.approx(dec)
    assert "ZeroDivisionError" in w._last_error and len(w.errors) == 1


def test_huge_memmap_is_not_read(tmp_path):
    big = np.lib.format.open_memmap(
        tmp_path / "big.npy", mode="w+", dtype="<f4", shape=(20000, 20000)
    )
    big[:512, :512] = 7.0
    big.flush()
    ro = np.load(tmp_path / "big.npy", mmap_mode="r")
    w = RecordingWidget()
    w.load_image(ro)
    entry = w._entries["default"]
    assert entry.array is ro or entry.array.base is ro or isinstance(entry.array, np.memmap)
    w.sent.clear()
    tile_request(w, 1, level=0, tx=0, ty=0)
    ((content, buffers),) = w.sent
    assert decode_tile(content, buffers[0])[0, 0] == 7.0


def test_browser_pan_updates_viewport_keeping_units(sky):
    w = RecordingWidget()
    wcs = tan_wcs()
    w.load_image(NDData(sky, wcs=wcs))
    w.set_state({"_view": {"key": w._displayed, "x": 100.0, "y": 80.0, "fov": 50.0}})  # a pan
    vp = w.get_viewport(sky_or_pixel="pixel")
    assert vp["center"][0] == pytest.approx(100.0) and vp["fov"] == pytest.approx(50.0)
    assert w.get_viewport()["center"].separation(wcs.pixel_to_world(100, 80)).arcsec < 1e-6


def test_stretch_and_cuts_change_sends_no_pixels(sky):
    w = RecordingWidget()
    w.load_image(sky)
    w.sent.clear()
    w.set_stretch(SqrtStretch())
    w.set_cuts((990, 1010))
    w.set_colormap("viridis")
    assert w.sent == []
    d = w._displays[w._displayed]
    assert (d.vmin, d.vmax, d.stretch.name, d.cmap) == (990, 1010, "sqrt", "viridis")
    assert len(d.cmap_lut) == 1024


def test_blink_keeps_the_sky_position_and_scale(sky):
    w = RecordingWidget()
    w.load_image(NDData(sky, wcs=tan_wcs()), image_label="a")
    w.load_image(NDData(sky, wcs=tan_wcs(crpix=(150.0, 100.0), scale=0.22 / 3600)), image_label="b")
    w.set_viewport(center=(300.0, 120.0), fov=60.0, image_label="b")
    w.blink()
    assert w.displayed_label == "a" and w._view.key == w._entries["a"].key
    at_b = w._entries["b"].wcs.pixel_to_world(300.0, 120.0)
    at_a = w._entries["a"].wcs.pixel_to_world(w._view.x, w._view.y)
    assert at_a.separation(at_b).arcsec < 1e-6
    assert w._view.fov == pytest.approx(120.0, rel=1e-9)  # 60 pixels of 0.22″ = 120 of 0.11″
    assert w.get_viewport(sky_or_pixel="pixel", image_label="a")["center"] == pytest.approx(
        (w._view.x, w._view.y)
    )
    w.blink("b")  # and back: where it started
    assert (w._view.x, w._view.y, w._view.fov) == pytest.approx((300.0, 120.0, 60.0))


def test_blink_without_wcs_keeps_pixels_of_one_shape_else_shows_the_whole_image(sky):
    w = RecordingWidget()
    w.load_image(sky, image_label="a")
    w.load_image(sky[:, ::-1].copy(), image_label="b")
    w.load_image(sky[:100], image_label="c")
    w.set_viewport(center=(40.0, 50.0), fov=30.0, image_label="c")
    w.blink("a")  # another shape: the whole image
    assert (w._view.x, w._view.y, w._view.fov) == (259.5, 149.5, 520.0)
    w.set_viewport(center=(40.0, 50.0), fov=30.0, image_label="a")
    w.blink("b")  # one shape: the same pixels
    assert (w._view.x, w._view.y, w._view.fov) == (40.0, 50.0, 30.0)


def test_lock_follows_sky_position(sky):
    w1, w2 = RecordingWidget(), RecordingWidget()
    w1.load_image(NDData(sky, wcs=tan_wcs()), image_label="a")
    w1.load_image(NDData(sky, wcs=tan_wcs(crpix=(150.0, 100.0))), image_label="b")
    w1.blink()
    w2.load_image(NDData(sky, wcs=tan_wcs(crpix=(138.0, 128.0), scale=0.22 / 3600)))
    lock = lock_views(w1, w2)
    w1.set_viewport(center=(200.0, 100.0), fov=80.0, image_label="a")
    v2 = w2._view
    sky1 = w1._entries["a"].wcs.pixel_to_world(200.0, 100.0)
    sky2 = w2._entries["default"].wcs.pixel_to_world(v2.x, v2.y)
    assert sky1.separation(sky2).arcsec < 1e-6
    assert v2.fov == pytest.approx(40.0, rel=1e-6)
    lock.unlock()
    w1.set_viewport(center=(10.0, 10.0), image_label="a")
    assert w2._view == v2


def test_save_matches_the_stretch_pixel_by_pixel(tmp_path):
    from matplotlib import colormaps
    from PIL import Image as PILImage

    y, x = np.mgrid[0:48, 0:64]
    data = (x * 7.0 + y * 100.0).astype(np.float32)
    data[5, 9] = np.nan
    w = ImageWidget()
    w._viewer_size = [64, 48]
    w.load_image(data)
    w.set_cuts((0, 5000))
    w.set_stretch(SqrtStretch())
    w.set_colormap("viridis")
    w.set_viewport(center=(31.5, 23.5), fov=48)  # one image pixel per output pixel
    w.save(tmp_path / "view.png")
    got = np.asarray(PILImage.open(tmp_path / "view.png"))[::-1]  # PNG rows go down, y goes up
    s = np.clip(SqrtStretch()(np.clip(data / 5000, 0, 1)), 0, 1)
    index = np.minimum(np.floor(np.nan_to_num(s) * 256), 255).astype(int)
    expected = (colormaps["viridis"](index, bytes=True)).astype(np.uint8)
    finite = np.isfinite(data)
    np.testing.assert_array_equal(got[finite], expected[finite])
    assert tuple(got[5, 9]) == (204, 204, 204, 255)


def test_mask_plane_tiles_hold_the_masked_fraction(sky):
    flags = np.zeros(sky.shape, np.uint16)
    flags[:2, :2] = 4
    w = RecordingWidget()
    w.load_image(Numpy2DImage(data=sky, flags=flags, wcs=tan_wcs()))
    assert w._images[w._displayed].has_mask
    w.sent.clear()
    tile_request(w, 1, level=1, plane="mask")
    ((content, buffers),) = w.sent
    mask = decode_tile(content, buffers[0])
    assert mask[0, 0] == 1.0 and mask[0, 1] == 0.0 and mask.sum() == 1.0


def test_each_plane_of_an_image_is_opened_once(sky):
    """make_entry keeps the image's pixel sources; the pyramids read those (issue 14)."""
    opened = []

    class Counting(Numpy2DImage):
        def get_data_view(self, which="data"):
            opened.append(which)
            return super().get_data_view(which)

    flags = np.zeros(sky.shape, np.uint16)
    flags[:2, :2] = 4
    w = RecordingWidget()
    w.load_image(Counting(data=sky, flags=flags, wcs=tan_wcs()))
    tile_request(w, 1, level=0, plane="data")
    tile_request(w, 2, level=1, plane="mask")
    assert sorted(opened) == ["data", "flags"]


def test_center_on_moves_the_view_keeping_the_zoom(sky):
    w = RecordingWidget()
    wcs = tan_wcs()
    w.load_image(NDData(sky, wcs=wcs))
    w.set_viewport(fov=64.0 * 0.11 / 3600 * u.deg)
    ra, dec = (float(v) for v in wcs.pixel_to_world_values(100.0, 50.0))
    w.center_on(ra, dec)
    assert (w._view.x, w._view.y) == (pytest.approx(100.0), pytest.approx(50.0))
    assert w._view.fov == pytest.approx(64.0)
    with pytest.raises(TypeError, match="no WCS"):
        w.load_image(sky, image_label="plain")
        w.center_on(ra, dec, image_label="plain")


def test_first_load_does_not_import_matplotlib_or_scipy(tmp_path):
    """AIDA's default cuts and stretch are built when asked for, with the same limits."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from snapscope.widgets import ImageWidget
w = ImageWidget()
w.load_image(np.random.default_rng(0).normal(1000, 10, (300, 200)).astype(np.float32))
heavy = [m for m in ("astropy.visualization", "astropy.nddata", "matplotlib", "scipy") if m in sys.modules]
assert not heavy, heavy
vmin, vmax = w._displays[w._displayed].vmin, w._displays[w._displayed].vmax
from astropy.visualization import AsymmetricPercentileInterval, LinearStretch
cuts = w.get_cuts()
assert isinstance(cuts, AsymmetricPercentileInterval), cuts
assert (cuts.lower_percentile, cuts.upper_percentile) == (0.5, 99.5)
assert (vmin, vmax) == tuple(cuts.get_limits(w._entries["default"].cache["sample"]))
assert isinstance(w.get_stretch(), LinearStretch)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
