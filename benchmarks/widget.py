"""ImageWidget side by side with astrowidgets (ginga, bqplot) and jdaviz Imviz, in one run.

Every viewer runs in Voila (``--app voila``, the default: the page a hub user or Binder shows) or
JupyterLab (``--app lab``), in headless Chromium, on the same 4088² float32 FITS file. A first
cell imports; a second one makes the viewer, loads the file and ``display()``s it, writing
``time.time()`` at its start, before ``load``, before ``display()`` and at its end. Measured per
viewer (see ARCHITECTURE.md targets; kernel wall clock against the page's
``performance.timeOrigin + now``: one machine, one clock):
  * the cell's start, ``load`` and ``display()`` → first picture; in Voila also when the page's
    HTML arrived (Voila sends it once the notebook has run) and, for our viewer, when its view
    was constructed; the websocket bytes received before the first picture and until the view is
    settled;
  * a stretch change made from Python (a button calling ``set_stretch(LogStretch())``): bytes,
    and click → changed picture including the kernel round trip (the page's own clock: the click
    event, then the frame that drew the new display, or ginga's new JPEG decoded, and the
    animation frame after that one; other viewers by screenshots, ~0.1 s resolution);
  * five 150 px drags (our viewer at 1:1, ginga at its default zoom): bytes until quiet, and for
    our viewer that the view follows the mouse with no kernel round trip;
plus, in this process, the p95 kernel time of a full-resolution tile (cold cache) and with
``--big`` a 20k × 20k memory-mapped mosaic (load, overview tile, resident memory growth).
Each Voila page is a new kernel; ``--runs N`` loads it N times and reports medians.

``--baseline CHECKOUT`` also measures another snapscope source checkout (e.g. ``git worktree add
/tmp/base <rev>`` with its bundle built, ``make js``) in the same run: before and after, side by
side, on a machine whose load changes from minute to minute. The closing lines print the issue 14
targets with ok/MISSED: Voila cell → first picture ≤ ½ of astrowidgets ginga's, and a Python
``set_stretch`` repainted ≤ 50 ms including the kernel round trip (with the time the next
animation frame began: the repainted frame is then with the compositor).

Peers that are not installed are skipped. astrowidgets ginga runs in the project's environment
when it is there, else in ``benchmarks/_data/ginga-venv`` (``python -m venv`` + ``pip install
astrowidgets ginga voila ipykernel jupyterlab==4.6.6``). Imviz pins other versions (bqplot 0.12):
it runs in ``benchmarks/_data/imviz-venv`` (``pip install jdaviz ipykernel voila
jupyterlab==4.6.6``). Each environment gets its own Jupyter server, so its kernel and front-end
extensions match.

Run: ``.venv/bin/python benchmarks/widget.py [--app voila|lab] [--peers snapscope,ginga,bqplot,
imviz] [--runs 3] [--baseline CHECKOUT] [--big] [--renderer canvas]`` (needs /usr/bin/chromium,
voila or jupyterlab, playwright). Headless Chromium runs WebGL2 on SwiftShader (software): each
full-view repaint costs 0.2-0.5 s there, so drags are slow with ``webgl2`` and the canvas 2D
renderer shows what a GPU would do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "benchmarks")]

from _widget_page import first_picture, five_drags, stretch_change  # noqa: E402
from servers import (  # noqa: E402
    BIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_IDLE,
    TELEMETRY,
    WS_COUNTER,
    Server,
    free_port,
    jupyter_command,
    voila_notebook_server,
    wait_for,
    write_notebook,
)

DATA = ROOT / "benchmarks" / "_data"
IMVIZ_VENV = DATA / "imviz-venv"
GINGA_VENV = DATA / "ginga-venv"


@dataclass(frozen=True)
class Peer:
    """One viewer as the benchmark drives it.

    ``imports`` runs in a first cell; ``make`` (defining ``w``), ``load`` (loading ``{path}``)
    and ``display(VBox([log-stretch button, view]))`` run in a second one, whose ``time.time()``
    at its start, before ``load``, before ``display()`` and at its end the kernel writes down.
    ``picture`` says how the page shows a picture: ``"dataset"`` (our viewer's own timestamp),
    ``"img"`` (ginga's JPEG element), or ``"pixels"`` (screenshots of the centre of ``target``
    until it holds more than 64 colours: a picture, not a blank canvas or axes; resolution one
    screenshot, ~0.1 s). ``pythons``: the environments that may have it, in order.
    """

    name: str
    imports: str
    make: str
    load: str
    view: str
    stretch: str
    target: str
    picture: str
    pythons: tuple[Path, ...] = (BIN / "python",)


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
        (BIN / "python", GINGA_VENV / "bin" / "python"),
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
        (BIN / "python", GINGA_VENV / "bin" / "python"),
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
        (IMVIZ_VENV / "bin" / "python",),
    ),
}

LOAD_CELL = """
import json, time
t_cell = time.time()
import ipywidgets as ipw
from IPython.display import display
{make}
t_load = time.time()
{load}
button = ipw.Button(description="log stretch")
button.on_click(lambda _: {stretch})
t_display = time.time()
display(ipw.VBox([button, {view}]))
json.dump({{"cell": t_cell, "load": t_load, "display": t_display, "end": time.time()}},
          open({out!r}, "w"))
"""

RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
SHUTDOWN = "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"


@dataclass(frozen=True)
class Viewer:
    """A peer in one environment, and for snapscope the source checkout its kernel imports."""

    label: str
    peer: Peer
    python: Path
    src: Path | None = None
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


def installed(peer: Peer, app: str) -> Path | None:
    """The first of the peer's Pythons that imports its viewer and runs ``app``, else None."""
    module = peer.imports.splitlines()[-1].split()[1]
    code = f"import {module}, {'voila' if app == 'voila' else 'jupyterlab'}"
    for python in peer.pythons:
        if python.exists() and subprocess.run([str(python), "-c", code],
                                              capture_output=True).returncode == 0:
            return python
    return None


def isolated_env(python: Path, root: Path, src: Path | None) -> dict:
    """Environment of one server: its own Jupyter and IPython dirs, ``python``'s tools first on
    PATH, and ``src`` (a snapscope checkout's source) first on the kernel's path."""
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
    env.pop("PYTHONPATH", None)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def notebook_cells(viewer: Viewer, path: Path, renderer: str, times: Path) -> list[str]:
    peer = viewer.peer
    fmt = {"path": str(path), "renderer": renderer}
    cell = LOAD_CELL.format(make=peer.make.format(**fmt), load=peer.load.format(**fmt),
                            view=peer.view, stretch=peer.stretch, out=str(times))
    return [peer.imports, cell]


def run_page(browser, url: str, viewer: Viewer, times: Path, app: str) -> dict:
    """Open the page, then measure the first picture, a stretch change and five drags."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    ctx.add_init_script(WS_COUNTER)
    ctx.add_init_script(TELEMETRY)  # our viewer's data-* clocks (firstPicture, readyAt, ...)
    page = ctx.new_page()
    times.unlink(missing_ok=True)
    try:
        page.goto(url, wait_until="domcontentloaded")
        if app == "lab":
            wait_for(lambda: page.evaluate(KERNEL_IDLE), timeout=180, what="an idle kernel")
        mark = page.evaluate("window.__wsFrames.length")
        if app == "lab":
            page.evaluate(RUN_ALL)
        r = first_picture(page, viewer.peer, times, mark, voila=app == "voila")
        r.update(stretch_change(page, viewer.peer))
        r.update(five_drags(page, viewer.peer))
        if app == "lab":
            page.evaluate(SHUTDOWN)
    finally:
        ctx.close()
    return r


def serve(viewer: Viewer, app: str, root: Path, cells: list[str]) -> tuple[Server, str]:
    """A Voila or JupyterLab server of the viewer's environment, and the notebook's URL."""
    env = isolated_env(viewer.python, root, viewer.src)
    name = "bench.ipynb"
    if app == "voila":
        server = voila_notebook_server(root, name, cells, env, bin_dir=viewer.python.parent)
        return server, server.url()
    write_notebook(root / name, cells)
    port = free_port()
    cmd = jupyter_command(port, root, bin_dir=viewer.python.parent)
    server = Server(cmd, port, root, env, root / "lab.log")
    return server, server.url(f"lab/tree/{name}?reset")


def browser_runs(viewers: list[Viewer], path: Path, renderer: str, app: str,
                 runs: int) -> dict[str, list[dict]]:
    """Each viewer ``runs`` times (a new page, so a new kernel each), one server per viewer."""
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {v.label: [] for v in viewers}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        servers = []
        try:
            for k, viewer in enumerate(viewers):
                root = Path(tmp) / str(k)
                root.mkdir()
                times = root / "times.json"
                servers.append((viewer, times, *serve(viewer, app, root,
                                                       notebook_cells(viewer, path, renderer, times))))
            for _ in range(runs):  # interleaved: each viewer sees the same machine load
                for viewer, times, _server, url in servers:
                    results[viewer.label].append(run_page(browser, url, viewer, times, app))
                    print(f"  {viewer.label}: {json.dumps(results[viewer.label][-1])}",
                          file=sys.stderr, flush=True)
        finally:
            for _viewer, _times, server, _url in servers:
                server.stop()
            browser.close()
    return results


def medians(runs: list[dict]) -> dict:
    """Per figure, the median over the runs (booleans: all of them)."""
    out: dict = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = all(values) if isinstance(values[0], bool) else statistics.median(values)
        if isinstance(values[0], int) and not isinstance(values[0], bool):
            out[key] = int(out[key])
    return out


COLUMNS = {
    "bytes_first_picture": "first picture bytes",
    "cell_to_picture_s": "cell start→picture s",
    "cell_to_kernel_done_s": "cell start→kernel done s",
    "cell_to_page_html_s": "cell start→page HTML s",
    "cell_to_view_made_s": "cell start→view made s",
    "display_to_picture_s": "display()→picture s",
    "load_to_picture_s": "load→picture s",
    "kernel_load_s": "kernel load call s",
    "bytes_settled_view": "settled view bytes",
    "bytes_stretch_change": "stretch bytes",
    "stretch_click_to_repaint_s": "stretch click→repaint s",
    "stretch_click_to_next_frame_s": "stretch click→next frame s",
    "stretch_trait_to_frame_s": "stretch trait→frame s",
    "bytes_five_drags": "five drags bytes",
}


def table(results: dict[str, dict]) -> str:
    """Viewers × measurements, then each snapscope's value as a fraction of each peer's."""
    names = list(results)
    width = max(map(len, COLUMNS.values()))
    cell = max(14, *map(len, names)) + 2
    lines = [f"{'':<{width}}" + "".join(f"{n:>{cell}}" for n in names)]
    for key, title in COLUMNS.items():
        cells = [results[n].get(key) for n in names]
        lines.append(f"{title:<{width}}" + "".join(f"{_fmt(v):>{cell}}" for v in cells))
    ours = [n for n in names if n.startswith("snapscope")]
    for mine in ours:
        for peer in (n for n in names if n not in ours):
            lines.append(f"\n{mine} / {peer}:")
            for key, title in COLUMNS.items():
                a, b = results[mine].get(key), results[peer].get(key)
                if a is not None and b:
                    lines.append(f"  {title:<{width}} {a / b:8.1%}")
    return "\n".join(lines)


def targets(results: dict[str, dict], app: str) -> str:
    """Issue 14's two widget targets, each with ok/MISSED, for every snapscope measured."""
    lines = [f"\ntargets (issue 14), {app}, this run:"]
    ginga = results.get("ginga", {}).get("cell_to_picture_s")
    for name in (n for n in results if n.startswith("snapscope")):
        r = results[name]
        first, stretch = r["cell_to_picture_s"], r["stretch_click_to_repaint_s"]
        if ginga:
            ratio = first / ginga
            lines.append(f"  {name:<20} cell start→first picture {first:6.3f} s = {ratio:6.1%} of "
                         f"ginga's {ginga:.3f} s (target <= 50 %) {'ok' if ratio <= 0.5 else 'MISSED'}")
        else:
            lines.append(f"  {name:<20} cell start→first picture {first:6.3f} s; ginga not measured")
        lines.append(f"  {name:<20} set_stretch repainted, kernel round trip included "
                     f"{1e3 * stretch:6.1f} ms (target <= 50 ms) {'ok' if stretch <= 0.05 else 'MISSED'}"
                     f"; the frame after it began at {1e3 * r['stretch_click_to_next_frame_s']:.1f} ms")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    return f"{v:,d}" if isinstance(v, int) else f"{v:.3f}"


def viewers_to_run(names: list[str], app: str, baseline: Path | None) -> list[Viewer]:
    out = []
    for name in names:
        python = installed(PEERS[name], app)
        if python is None:
            tried = ", ".join(str(p) for p in PEERS[name].pythons)
            print(f"skipping {name}: no {app} environment imports it (tried {tried})", file=sys.stderr)
            continue
        if name != "snapscope":
            out.append(Viewer(name, PEERS[name], python))
            continue
        out.append(Viewer(name, PEERS[name], python, ROOT / "src"))
        if baseline is not None:
            out.append(Viewer(f"snapscope@{baseline.name}", PEERS[name], python,
                              baseline.resolve() / "src"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="voila", choices=["voila", "lab"],
                        help="the page the viewers run in (default: voila)")
    parser.add_argument("--big", action="store_true", help="also the 20k × 20k memmap (1.6 GB sparse file)")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help=f"comma-separated viewers among {', '.join(PEERS)}"
    )
    parser.add_argument("--runs", type=int, default=3, help="page loads per viewer (medians)")
    parser.add_argument("--baseline", type=Path, help="another snapscope checkout, measured too")
    parser.add_argument(
        "--renderer",
        default="auto",
        choices=["auto", "webgl2", "canvas"],
        help="the widget's renderer (headless Chromium's WebGL2 is software)",
    )
    args = parser.parse_args()
    path = DATA / "sky4088.fits"
    make_sky(path)
    viewers = viewers_to_run([n for n in args.peers.split(",") if n], args.app, args.baseline)
    runs = browser_runs(viewers, path, args.renderer, args.app, args.runs)
    results = {label: medians(r) for label, r in runs.items()}
    extra = {"app": args.app, "renderer": args.renderer, "runs": args.runs,
             "load_avg": os.getloadavg(), **tile_times(path)}
    if args.big:
        extra.update(big_run_fresh())
    print(f"medians of {args.runs} page loads per viewer, interleaved; {os.cpu_count()} CPUs")
    print(table(results))
    print(targets(results, args.app))
    for k, v in extra.items():
        print(f"{k:<32}  {v:.3f}" if isinstance(v, float) else f"{k:<32}  {v}")
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "widget.json").write_text(json.dumps({"viewers": runs, **extra}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
