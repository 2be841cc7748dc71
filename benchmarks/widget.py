"""ImageWidget in headless Chromium through Voila: bytes and times (see ARCHITECTURE.md targets).

Measures, for a 4088² float32 FITS image on disk:
  * kernel time from ``load_image`` to the overview tile sent;
  * websocket bytes and time from page load to the first picture, and to the settled
    (full-resolution-for-the-screen) view;
  * a stretch change: bytes and time to the repainted canvas;
  * five 150 px drags at 1:1: bytes until the view is settled, and that the view follows the
    mouse with no kernel round trip;
  * p95 kernel time of a full-resolution tile (cold cache), in this process;
  * with ``--big``: a 20k × 20k memory-mapped mosaic, load → overview tile sent, and the
    growth of this process's resident memory.

Run: ``.venv/bin/python benchmarks/widget.py [--big] [--renderer canvas]`` (needs
/usr/bin/chromium, voila, playwright). Headless Chromium runs WebGL2 on SwiftShader (software):
each full-view repaint costs 0.2-0.5 s there, so drags are slow with ``webgl2`` and the canvas 2D
renderer shows what a GPU would do.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from servers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    WS_COUNTER,
    Server,
    free_port,
    voila_command,
    wait_for,
    write_notebook,
)
from widget_page import READ_PIXELS, settled, state  # noqa: E402

DATA = ROOT / "benchmarks" / "_data"

CELL = """
import json, time
import ipywidgets as ipw
from astropy.visualization import LogStretch
from snapscope.image import FITSImage
from snapscope.widgets import ImageWidget

w = ImageWidget(height="600px", renderer={renderer!r})
wall0 = time.time()
t0 = time.perf_counter()
w.load_image(FITSImage(full_filepath={path!r}))
json.dump({{"load_to_overview_sent_s": time.perf_counter() - t0, "load_wall": wall0,
           "overview_bytes": w.tiles.stats["bytes"]}}, open({out!r}, "w"))
button = ipw.Button(description="log stretch")
button.on_click(lambda _: w.set_stretch(LogStretch()))
ipw.VBox([button, w])
"""


GINGA_CELL = """
import json, time
import ipywidgets as ipw
from astropy.visualization import LogStretch
from astrowidgets.ginga import ImageWidget

w = ImageWidget(image_width=1200, image_height=600)
wall0 = time.time()
t0 = time.perf_counter()
w.load_image({path!r})
json.dump({{"load_image_s": time.perf_counter() - t0, "load_wall": wall0}}, open({out!r}, "w"))
button = ipw.Button(description="log stretch")
button.on_click(lambda _: w.set_stretch(LogStretch()))
ipw.VBox([button, w])
"""

GINGA_PICTURE = """() => { const i = document.querySelector('img.widget-image');
  return i && i.naturalWidth > 0 ? [i.src, performance.timeOrigin + performance.now()] : null; }"""


def quiet(page, ms: float = 700) -> bool:
    """True when no websocket frame arrived in the last ``ms`` milliseconds."""
    return page.evaluate(
        f"(performance.timeOrigin + performance.now()) - (window.__wsTimes.at(-1) ?? 0) > {ms}"
    )


def ginga_run(path: Path) -> dict:
    """The same measurements for astrowidgets' ginga backend (server-rendered JPEGs)."""
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        kernel_json = tmp / "kernel.json"
        nb = write_notebook(tmp / "g.ipynb", [GINGA_CELL.format(path=str(path), out=str(kernel_json))])
        env = {
            **__import__("os").environ,
            "JUPYTER_CONFIG_DIR": str(tmp / "cfg"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "rt"),
            "IPYTHONDIR": str(tmp / "ipy"),
        }
        port = free_port()
        server = Server(voila_command(nb, port), port, tmp, env, tmp / "voila.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(WS_COUNTER)
                page = ctx.new_page()
                t0 = time.monotonic()
                page.goto(server.url(), wait_until="domcontentloaded")
                src, first = wait_for(
                    lambda: page.evaluate(GINGA_PICTURE), timeout=180, what="ginga picture", interval=0.01
                )
                out["ginga_page_to_first_picture_s"] = time.monotonic() - t0
                out["ginga_bytes_first_picture"] = int(
                    page.evaluate(
                        f"window.__wsFrames.filter((n, i) => window.__wsTimes[i] <= {first})"
                        ".reduce((a, b) => a + b, 0)"
                    )
                )
                kernel = json.loads(kernel_json.read_text())
                out["ginga_load_image_to_first_picture_s"] = first / 1000 - kernel["load_wall"]
                out["ginga_load_image_s"] = kernel["load_image_s"]
                wait_for(lambda: quiet(page), timeout=60, what="quiet")
                mark = page.evaluate("window.__wsFrames.length")
                t1 = time.monotonic()
                page.get_by_role("button", name="log stretch").click()
                wait_for(
                    lambda: (x := page.evaluate(GINGA_PICTURE)) and x[0] != src,
                    what="ginga repaint",
                    interval=0.005,
                )
                out["ginga_stretch_click_to_repaint_s"] = time.monotonic() - t1
                wait_for(lambda: quiet(page), timeout=60, what="quiet")
                out["ginga_bytes_stretch_change"] = frames_since(page, mark)
                box = page.locator("img.widget-image").first.bounding_box()
                mx, my = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                mark = page.evaluate("window.__wsFrames.length")
                t2 = time.monotonic()
                for _ in range(5):
                    page.mouse.move(mx, my)
                    page.mouse.down()
                    page.mouse.move(mx - 150, my, steps=10)
                    page.mouse.up()
                wait_for(lambda: quiet(page, 1500), timeout=120, what="quiet after drags")
                out["ginga_five_drags_s"] = time.monotonic() - t2
                out["ginga_bytes_five_drags"] = frames_since(page, mark)
                browser.close()
        finally:
            server.stop()
    return out


def make_sky(path: Path, size: int = 4088) -> None:
    """Write the synthetic sky: N(1000, 10) noise plus 20 000 Pareto point sources."""
    from astropy.io import fits

    if path.exists():
        return
    rng = np.random.default_rng(1)
    sky = (1000 + 10 * rng.standard_normal((size, size))).astype(np.float32)
    idx = rng.integers(0, size, (2, 20000))
    sky[idx[0], idx[1]] += (rng.pareto(1.5, 20000) * 200).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    hdu = fits.PrimaryHDU(sky)
    hdu.header["BUNIT"] = "adu"  # astrowidgets reads FITS with CCDData, which needs a unit
    hdu.writeto(path)


def frames_since(page, mark: int) -> int:
    return int(page.evaluate(f"window.__wsFrames.slice({mark}).reduce((a, b) => a + b, 0)"))


def browser_run(path: Path, renderer: str = "auto") -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        kernel_json = tmp / "kernel.json"
        nb = write_notebook(
            tmp / "bench.ipynb",
            [CELL.format(path=str(path), out=str(kernel_json), renderer=renderer)],
        )
        env = {
            **__import__("os").environ,
            "JUPYTER_CONFIG_DIR": str(tmp / "cfg"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "rt"),
            "IPYTHONDIR": str(tmp / "ipy"),
        }
        port = free_port()
        server = Server(voila_command(nb, port), port, tmp, env, tmp / "voila.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(WS_COUNTER)
                page = ctx.new_page()
                t0 = time.monotonic()
                page.goto(server.url(), wait_until="domcontentloaded")
                wait_for(
                    lambda: (
                        (s := state(page))
                        and int(s.get("received", 0) or 0) >= 1
                        and int(s.get("drawn", 0)) >= 1
                    ),
                    timeout=120,
                    what="first picture",
                    interval=0.01,
                )
                out["page_to_first_picture_s"] = time.monotonic() - t0
                first = float(state(page)["firstPicture"])
                out["bytes_first_picture"] = int(
                    page.evaluate(
                        f"window.__wsFrames.filter((n, i) => window.__wsTimes[i] <= {first})"
                        ".reduce((a, b) => a + b, 0)"
                    )
                )
                s = wait_for(lambda: settled(page), timeout=120, what="settled view")
                out["page_to_settled_view_s"] = time.monotonic() - t0
                out["bytes_settled_view"] = frames_since(page, 0)
                out["settled_level"] = int(s["level"])
                kernel = json.loads(kernel_json.read_text())
                out["load_image_to_first_picture_s"] = first / 1000 - kernel.pop("load_wall")
                out["view_ready_to_first_picture_s"] = (first - float(state(page)["readyAt"])) / 1000
                out.update(kernel)

                cx, cy = s["width"] / 2, s["height"] / 2
                before = page.evaluate(READ_PIXELS, [0, [[cx, cy]]])[0]
                mark = page.evaluate("window.__wsFrames.length")
                t1 = time.monotonic()
                page.get_by_role("button", name="log stretch").click()
                wait_for(
                    lambda: page.evaluate(READ_PIXELS, [0, [[cx, cy]]])[0] != before,
                    what="repaint",
                    interval=0.005,
                )
                out["stretch_click_to_repaint_s"] = time.monotonic() - t1
                out["stretch_trait_to_frame_ms"] = float(state(page)["displayToFrameMs"])
                page.wait_for_timeout(500)
                out["bytes_stretch_change"] = frames_since(page, mark)

                page.locator(".snapscope-viewer").first.focus()
                page.keyboard.press("1")
                wait_for(lambda: (x := settled(page)) and x["level"] == "0", timeout=120, what="1:1")
                mark = page.evaluate("window.__wsFrames.length")
                box = page.locator("canvas.snapscope-overlay").first.bounding_box()
                mx, my = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                follows = True
                t2 = time.monotonic()
                for _ in range(5):
                    v0 = json.loads(state(page)["view"])["cx"]
                    page.mouse.move(mx, my)
                    page.mouse.down()
                    page.mouse.move(mx - 150, my, steps=10)
                    follows &= json.loads(state(page)["view"])["cx"] != v0
                    page.mouse.up()
                wait_for(lambda: settled(page), timeout=120, what="settled after drags")
                out["five_drags_to_settled_s"] = time.monotonic() - t2
                out["bytes_five_drags"] = frames_since(page, mark)
                out["view_follows_mouse_without_kernel"] = bool(follows)
                browser.close()
        finally:
            server.stop()
    return out


def tile_times(path: Path, n: int = 40) -> dict:
    from snapscope.image import FITSImage
    from snapscope.tiles import TileCache, TilePyramid

    pyr = TilePyramid(FITSImage(full_filepath=str(path)), tile_size=256, cache=TileCache(2**28))
    nty, ntx = pyr.n_tiles(0)
    rng = np.random.default_rng(0)
    times = []
    for tx, ty in zip(rng.integers(0, ntx, n), rng.integers(0, nty, n), strict=True):
        t = time.perf_counter()
        pyr.tile(0, int(tx), int(ty))
        times.append(time.perf_counter() - t)
    return {
        "tile_level0_median_ms": 1e3 * float(np.median(times)),
        "tile_level0_p95_ms": 1e3 * float(np.percentile(times, 95)),
    }


def big_run() -> dict:
    from snapscope.widgets import ImageWidget

    path = DATA / "big20k.npy"
    if not path.exists():
        mm = np.lib.format.open_memmap(path, mode="w+", dtype="<f4", shape=(20000, 20000))
        mm[::97, ::89] = 1.0
        mm.flush()
        del mm
    arr = np.load(path, mmap_mode="r")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    w = ImageWidget()
    t = time.perf_counter()
    w.load_image(arr)
    elapsed = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "big20k_load_to_overview_sent_s": elapsed,
        "big20k_peak_rss_growth_mb": (rss1 - rss0) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the 20k × 20k memmap (1.6 GB sparse file)")
    parser.add_argument(
        "--ginga", action="store_true", help="also astrowidgets' ginga backend in the same run"
    )
    parser.add_argument(
        "--renderer",
        default="auto",
        choices=["auto", "webgl2", "canvas"],
        help="the widget's renderer (headless Chromium's WebGL2 is software)",
    )
    args = parser.parse_args()
    path = DATA / "sky4088.fits"
    make_sky(path)
    results = {"renderer": args.renderer, **browser_run(path, args.renderer), **tile_times(path)}
    if args.ginga:
        results.update(ginga_run(path))
    if args.big:
        results.update(big_run())
    width = max(map(len, results))
    for k, v in results.items():
        print(f"{k:<{width}}  {v:.3f}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "widget.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
