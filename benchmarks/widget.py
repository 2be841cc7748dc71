"""ImageWidget side by side with astrowidgets (ginga, bqplot) and jdaviz Imviz, in one run.

Every viewer runs in JupyterLab (headless Chromium) with its kernel already started, on the
same 4088² float32 FITS file. A first cell imports; a second one makes the viewer, loads the
file and ``display()``s it, writing ``time.time()`` before ``load`` and before ``display()``.
Measured per viewer (see ARCHITECTURE.md targets):
  * ``display()`` → first picture and ``load`` → first picture (kernel wall clock against the
    page's ``performance.timeOrigin + now``: one machine, one clock), and the websocket bytes
    received before the first picture and until the view is settled;
  * a stretch change (a button calling ``set_stretch(LogStretch())``): bytes and click → repaint;
  * five 150 px drags (our viewer at 1:1, ginga at its default zoom): bytes until quiet, and for
    our viewer that the view follows the mouse with no kernel round trip;
plus, in this process, the p95 kernel time of a full-resolution tile (cold cache) and with
``--big`` a 20k × 20k memory-mapped mosaic (load, overview tile, resident memory growth).

Imviz pins other versions (bqplot 0.12) than the project: it runs in its own environment
``benchmarks/_data/imviz-venv`` (``python -m venv`` + ``pip install jdaviz ipykernel
jupyterlab==4.6.6``), with its own JupyterLab server, so its kernel and front-end extensions
match. Peers that are not installed are skipped.

Run: ``.venv/bin/python benchmarks/widget.py [--peers snapscope,ginga,bqplot,imviz] [--big]
[--renderer canvas]`` (needs /usr/bin/chromium, jupyterlab, playwright). Headless Chromium runs
WebGL2 on SwiftShader (software): each full-view repaint costs 0.2-0.5 s there, so drags are slow
with ``webgl2`` and the canvas 2D renderer shows what a GPU would do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from servers import (  # noqa: E402
    BIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_IDLE,
    WS_COUNTER,
    Server,
    free_port,
    jupyter_command,
    wait_for,
    write_notebook,
)
from widget_page import READ_PIXELS, settled, state  # noqa: E402

DATA = ROOT / "benchmarks" / "_data"
IMVIZ_VENV = DATA / "imviz-venv"


@dataclass(frozen=True)
class Peer:
    """One viewer as the benchmark drives it.

    ``imports`` runs in a first cell; ``make`` (defining ``w``), ``load`` (loading ``{path}``)
    and ``display(VBox([log-stretch button, view]))`` run in a second one, whose ``time.time()``
    before ``load`` and before ``display()`` the kernel writes down. ``picture`` says how the
    page shows a picture: ``"dataset"`` (our viewer's own timestamp), ``"img"`` (ginga's JPEG
    element), or ``"pixels"`` (screenshots of the centre of ``target`` until it holds more than
    64 colours: a picture, not a blank canvas or axes; resolution one screenshot, ~0.1 s).
    """

    name: str
    imports: str
    make: str
    load: str
    view: str
    stretch: str
    target: str
    picture: str
    python: Path = BIN / "python"


PEERS = {
    "snapscope": Peer(
        "snapscope",
        "from astropy.visualization import LogStretch\nfrom snapscope.image import FITSImage\n"
        "from snapscope.widgets import ImageWidget",
        'w = ImageWidget(height="600px", renderer={renderer!r})',
        "w.load_image(FITSImage(full_filepath={path!r}))",
        "w",
        "w.set_stretch(LogStretch())",
        "canvas.snapscope-overlay",
        "dataset",
    ),
    "ginga": Peer(
        "ginga",
        "from astropy.visualization import LogStretch\nfrom astrowidgets.ginga import ImageWidget",
        "w = ImageWidget(image_width=1200, image_height=600)\nw.click_drag = True  # default: off",
        "w.load_image({path!r})",
        "w",
        "w.set_stretch(LogStretch())",
        "img.widget-image",
        "img",
    ),
    "bqplot": Peer(
        "bqplot",
        "from astropy.visualization import LogStretch\nfrom astrowidgets.bqplot import ImageWidget",
        "w = ImageWidget(display_width=1200, display_aspect_ratio=0.5)",
        "w.load_image({path!r})",
        "w",
        "w.set_stretch(LogStretch())",
        ".bqplot.figure",
        "pixels",
    ),
    "imviz": Peer(
        "imviz",
        "from jdaviz import Imviz",
        "w = Imviz()",
        "w.load({path!r})\nw.default_viewer._obj.glue_viewer.toolbar.active_tool_id = "
        "'jdaviz:imagepanzoom'",
        "w.app",
        "setattr(w.plugins['Plot Options'], 'stretch_function', 'log')",
        ".bqplot.figure",
        "pixels",
        IMVIZ_VENV / "bin" / "python",
    ),
}

LOAD_CELL = """
import json, time
import ipywidgets as ipw
from IPython.display import display
{make}
t_load = time.time()
{load}
button = ipw.Button(description="log stretch")
button.on_click(lambda _: {stretch})
t_display = time.time()
display(ipw.VBox([button, {view}]))
json.dump({{"load": t_load, "display": t_display}}, open({out!r}, "w"))
"""

GINGA_PICTURE = """() => { const i = document.querySelector('img.widget-image');
  return i && i.naturalWidth > 0 ? i.src : null; }"""

RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
SHUTDOWN = "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"


def quiet(page, ms: float = 700) -> bool:
    """True when no websocket frame arrived in the last ``ms`` milliseconds."""
    return page.evaluate(
        f"(performance.timeOrigin + performance.now()) - (window.__wsTimes.at(-1) ?? 0) > {ms}"
    )


def colours(page, selector: str) -> bytes:
    """PNG bytes of the centre half of the element (what the user sees there)."""
    box = page.locator(selector).first.bounding_box()
    clip = {
        "x": box["x"] + box["width"] / 4,
        "y": box["y"] + box["height"] / 4,
        "width": box["width"] / 2,
        "height": box["height"] / 2,
    }
    return page.screenshot(clip=clip)


def n_colours(png: bytes) -> int:
    import io

    from PIL import Image

    return len(Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 16) or [])


def bytes_until(page, mark: int, t: float) -> int:
    """Websocket bytes received after frame ``mark`` up to epoch time ``t`` (seconds)."""
    return int(
        page.evaluate(
            f"window.__wsFrames.slice({mark}).filter((n, i) => window.__wsTimes[{mark} + i]"
            f" <= {t * 1000}).reduce((a, b) => a + b, 0)"
        )
    )


class Picture:
    """Detects a viewer's (first or changed) picture the way its ``Peer.picture`` says."""

    def __init__(self, page, peer: Peer) -> None:
        self.page, self.peer = page, peer

    def snapshot(self):
        """Something that changes when the picture changes (None while there is no picture)."""
        page, kind = self.page, self.peer.picture
        if kind == "img":
            return page.evaluate(GINGA_PICTURE)
        if kind == "dataset":
            s = state(page)
            if not s or not s.get("firstPicture"):
                return None
            cx, cy = s["width"] / 2, s["height"] / 2
            return (s["firstPicture"], str(page.evaluate(READ_PIXELS, [0, [[cx, cy], [cx / 2, cy]]])))
        if not page.locator(self.peer.target).count():
            return None
        png = colours(page, self.peer.target)
        return png if n_colours(png) > 64 else None

    def wait_change(self, before, timeout: float = 180) -> tuple[object, float]:
        """Wait until the snapshot differs from ``before``; return it and the epoch time."""

        def changed():
            t = time.time()
            snap = self.snapshot()
            return (snap, t) if snap is not None and snap != before else None

        snap, t = wait_for(changed, timeout=timeout, what=f"{self.peer.name} picture", interval=0.01)
        if self.peer.picture == "dataset" and before is None:
            t = float(snap[0]) / 1000  # the viewer's own timestamp of its first picture
        return snap, t


def frames_since(page, mark: int) -> int:
    return int(page.evaluate(f"window.__wsFrames.slice({mark}).reduce((a, b) => a + b, 0)"))


def lab_server(python: Path, root: Path) -> Server:
    """JupyterLab of one Python environment (its kernel and its widgets' front ends)."""
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "IPYTHONDIR"):
        env[name] = str(root / name.lower())
        Path(env[name]).mkdir(exist_ok=True)
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    env.pop("VIRTUAL_ENV", None)
    port = free_port()
    return Server(jupyter_command(port, root, bin_dir=python.parent), port, root, env, root / "lab.log")


def run_peer(browser, server: Server, root: Path, peer: Peer, path: Path, renderer: str) -> dict:
    """display() → picture, bytes, stretch change and five drags of one viewer in JupyterLab."""
    out_json = root / f"{peer.name}.json"
    fmt = {"path": str(path), "renderer": renderer}
    cell = LOAD_CELL.format(
        make=peer.make.format(**fmt),
        load=peer.load.format(**fmt),
        view=peer.view,
        stretch=peer.stretch,
        out=str(out_json),
    )
    write_notebook(root / f"{peer.name}.ipynb", [peer.imports, cell])
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    ctx.add_init_script(WS_COUNTER)
    page = ctx.new_page()
    r: dict = {}
    try:
        page.goto(server.url(f"lab/tree/{peer.name}.ipynb?reset"), wait_until="domcontentloaded")
        wait_for(lambda: page.evaluate(KERNEL_IDLE), timeout=180, what="an idle kernel")
        picture = Picture(page, peer)
        mark = page.evaluate("window.__wsFrames.length")
        page.evaluate(RUN_ALL)
        snap, first = picture.wait_change(None)
        kernel = json.loads(wait_for(lambda: out_json.exists() and out_json.read_text(), what="times"))
        r["display_to_picture_s"] = first - kernel["display"]
        r["load_to_picture_s"] = first - kernel["load"]
        # the kernel's load call; for snapscope it also builds the overview tile and sets it
        # in the widget state, so this is load_image → first tile sent
        r["kernel_load_s"] = kernel["display"] - kernel["load"]
        r["bytes_first_picture"] = bytes_until(page, mark, first)
        if peer.picture == "dataset":  # the view's own clock: constructed → first picture
            r["view_to_picture_s"] = first - float(state(page)["readyAt"]) / 1000
        wait_for(lambda: quiet(page, 1500), timeout=180, what="quiet")
        if peer.picture == "dataset":
            wait_for(lambda: settled(page), timeout=120, what="settled view")
        r["bytes_settled_view"] = frames_since(page, mark)

        snap = picture.snapshot()
        mark = page.evaluate("window.__wsFrames.length")
        t0 = time.time()
        page.get_by_role("button", name="log stretch").click()
        _, t1 = picture.wait_change(snap)
        r["stretch_click_to_repaint_s"] = t1 - t0
        if peer.picture == "dataset":  # the view's own clock: new stretch trait → repainted frame
            r["stretch_trait_to_frame_s"] = float(state(page)["displayToFrameMs"]) / 1000
        wait_for(lambda: quiet(page, 1000), timeout=180, what="quiet")
        r["bytes_stretch_change"] = frames_since(page, mark)

        if peer.picture == "dataset":  # full resolution, as ginga's default view
            page.locator(".snapscope-viewer").first.focus()
            page.keyboard.press("1")
            wait_for(lambda: (x := settled(page)) and x["level"] == "0", timeout=120, what="1:1")
        wait_for(lambda: quiet(page, 1000), timeout=180, what="quiet")
        target = page.locator(peer.target).first
        target.scroll_into_view_if_needed()
        box, size = target.bounding_box(), page.viewport_size
        # Start at the centre of what is on screen of the image, with room for a 150 px drag.
        mx = (max(box["x"], 0) + min(box["x"] + box["width"], size["width"])) / 2 + 75
        my = (max(box["y"], 0) + min(box["y"] + box["height"], size["height"])) / 2
        mark = page.evaluate("window.__wsFrames.length")
        follows = True
        for _ in range(5):
            before = state(page)["view"] if peer.picture == "dataset" else None
            page.mouse.move(mx, my)
            page.mouse.down()
            page.mouse.move(mx - 150, my, steps=10)
            if peer.picture == "dataset":
                follows &= state(page)["view"] != before
            page.mouse.up()
        if peer.picture == "dataset":
            wait_for(lambda: settled(page), timeout=120, what="settled after drags")
            r["view_follows_mouse_without_kernel"] = bool(follows)
        wait_for(lambda: quiet(page, 1500), timeout=180, what="quiet after drags")
        r["bytes_five_drags"] = frames_since(page, mark)
        page.evaluate(SHUTDOWN)
    finally:
        ctx.close()
    return r


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


def big_run(cold: bool) -> dict:
    """A 20k × 20k memory map: ``load_image`` (its overview is too big to compute eagerly),
    then the browser's overview request: the preview tile sent, the exact tile sent, and the
    growth of the peak resident memory. ``cold``: the file is evicted from the page cache first.

    Run it in a fresh process (:func:`big_run_fresh`): the peak of a process that already held
    other images would hide the growth."""
    from snapscope.widgets import ImageWidget
    from snapscope.widgets._protocol import PLANE_DATA, TileRequest

    path = DATA / "big20k.npy"
    if not path.exists():
        mm = np.lib.format.open_memmap(path, mode="w+", dtype="<f4", shape=(20000, 20000))
        mm[::97, ::89] = 1.0
        mm.flush()
        del mm
    if cold:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    arr = np.load(path, mmap_mode="r")
    rss0 = peak_rss_mb()
    w = ImageWidget()
    sent: list[tuple[float, bool]] = []
    w.tiles._send = lambda content, buffers: sent.append((time.perf_counter(), "preview" in content))
    t0 = time.perf_counter()
    w.load_image(arr)
    t1 = time.perf_counter()
    entry = w._entries["default"]
    top = w.tiles.pyramid(entry).top_level
    w.tiles.answer(TileRequest(1, entry.key, PLANE_DATA, top, 0, 0))
    (t_preview, is_preview), (t_exact, _) = sent
    assert is_preview, "the first reply should be the preview"
    rss1 = peak_rss_mb()
    tag = "cold" if cold else "warm"
    return {
        f"big20k_{tag}_load_image_s": t1 - t0,
        f"big20k_{tag}_load_to_preview_sent_s": t_preview - t0,
        f"big20k_{tag}_load_to_exact_overview_sent_s": t_exact - t0,
        f"big20k_{tag}_peak_rss_growth_mb": rss1 - rss0,
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process image (``VmHWM``; ``ru_maxrss`` survives exec, so a
    spawned child would report its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def big_run_fresh() -> dict:
    """:func:`big_run` cold, then warm, each in a new interpreter (memory figures of its own)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    out: dict = {}
    for cold in (True, False):
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            out.update(pool.submit(big_run, cold).result())
    return out


def installed(peer: Peer) -> bool:
    """True when the peer's Python can import its viewer (and runs JupyterLab)."""
    module = peer.imports.splitlines()[-1].split()[1]
    code = f"import {module}, jupyterlab"
    if not peer.python.exists():
        return False
    return subprocess.run([str(peer.python), "-c", code], capture_output=True).returncode == 0


def browser_runs(names: list[str], path: Path, renderer: str) -> dict[str, dict]:
    """Run the viewers in turn, one JupyterLab server per Python environment."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    peers = [PEERS[n] for n in names]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for python in dict.fromkeys(peer.python for peer in peers):
            root = Path(tmp) / str(len(results))
            root.mkdir()
            server = lab_server(python, root)
            try:
                for peer in (q for q in peers if q.python == python):
                    results[peer.name] = run_peer(browser, server, root, peer, path, renderer)
            finally:
                server.stop()
        browser.close()
    return results


COLUMNS = {
    "bytes_first_picture": "first picture bytes",
    "display_to_picture_s": "display()→picture s",
    "load_to_picture_s": "load→picture s",
    "kernel_load_s": "kernel load call s",
    "bytes_settled_view": "settled view bytes",
    "bytes_stretch_change": "stretch bytes",
    "stretch_click_to_repaint_s": "stretch click→repaint s",
    "stretch_trait_to_frame_s": "stretch trait→frame s",
    "bytes_five_drags": "five drags bytes",
}


def table(results: dict[str, dict]) -> str:
    """Viewers × measurements, then snapscope's value as a fraction of each peer's."""
    names = list(results)
    width = max(map(len, COLUMNS.values()))
    lines = [f"{'':<{width}}" + "".join(f"{n:>12}" for n in names)]
    for key, title in COLUMNS.items():
        cells = [results[n].get(key) for n in names]
        lines.append(f"{title:<{width}}" + "".join(f"{_fmt(v):>12}" for v in cells))
    ours = results.get("snapscope")
    for peer in (n for n in names if ours and n != "snapscope"):
        lines.append(f"\nsnapscope / {peer}:")
        for key, title in COLUMNS.items():
            a, b = ours.get(key), results[peer].get(key)
            if a is not None and b:
                lines.append(f"  {title:<{width}} {a / b:8.1%}")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:,d}" if isinstance(v, int) else f"{v:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also the 20k × 20k memmap (1.6 GB sparse file)")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help=f"comma-separated viewers among {', '.join(PEERS)}"
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
    names = [n for n in args.peers.split(",") if n]
    skipped = [n for n in names if not installed(PEERS[n])]
    for n in skipped:
        print(f"skipping {n}: not importable by {PEERS[n].python}", file=sys.stderr)
    viewers = browser_runs([n for n in names if n not in skipped], path, args.renderer)
    extra = {"renderer": args.renderer, "load_avg": os.getloadavg(), **tile_times(path)}
    if args.big:
        extra.update(big_run_fresh())
    print(table(viewers))
    for k, v in extra.items():
        print(f"{k:<32}  {v:.3f}" if isinstance(v, float) else f"{k:<32}  {v}")
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "widget.json").write_text(json.dumps({"viewers": viewers, **extra}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
