"""The Explorer in a browser: from pressing Search to cutouts, photometry table and light curve.

Run: ``python benchmarks/explorer.py [--runs 3] [--baseline CHECKOUT]``. Prints the seconds
from the click on Search (24 images of a demo-like survey: 1024², Y106/J129/H158, a PSF per
band) until the page shows every cutout, both photometry rows of every image and every point
of the light curve, in Voila driven by Debian's Chromium (Playwright), as the browser tests.
Each run opens a new page, so a new kernel: the images are opened for the first time, as after
a user's first search. ``--baseline`` measures another snapscope source checkout (e.g. ``git
worktree add /tmp/base <rev>``; its JS bundle must be built, ``make js``) in the same run, and
the ratio is printed. Target (issue 14): half the time of the baseline. No asserts.

Data: ``snapscope.sim.make_survey`` into ``benchmarks/_data/explorer-survey`` (kept, not in
git), catalogued in a temporary embedded PostgreSQL removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

DATA = HERE / "_data" / "explorer-survey"
BANDS = ("Y106", "J129", "H158")
N_IMAGES = 24
CELL = """
import os
from snapscope.psf import PSF
from snapscope.widgets import explore

psf = {{b: PSF.get_psf_object("OversampledImagePSF", psffile=f"{survey}/epsf_{{b}}_1.fits")
       for b in {bands!r}}}
explorer = explore(dbclient=os.environ["SNAPSCOPE_DSN"], psf=psf, provenance=("bench", "sim"))
explorer
"""
#: Every cutout drawn, two photometry rows per image, one light-curve point per image (PSF).
DONE = """(n) => {
  const thumbs = document.querySelector('.snapscope-cutouts .snapscope-thumbs');
  const rows = document.querySelectorAll('.snapscope-photometry .snapscope-table tr[data-row]');
  const dots = document.querySelectorAll('.snapscope-lightcurve .dot');
  return thumbs?.getAttribute('data-loaded') === String(n) && rows.length === 2 * n
    && dots.length === n;
}"""


def survey():
    from snapscope.sim import make_survey

    return make_survey(DATA, n_images=N_IMAGES, size=1024, bands=BANDS, progress=False)


def search_once(browser, url: str, position: str, n: int) -> float:
    """Open the page (a new kernel), type the position, click Search; seconds to all drawn."""
    from servers import WS_COUNTER

    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    context.add_init_script(WS_COUNTER)
    page = context.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        field = page.get_by_placeholder("7.5511 -44.8072 or 00:30:12 -44:48:26")
        field.wait_for(timeout=180_000)
        field.fill(position)
        button = page.locator(".snapscope-search").get_by_role("button", name="Search")
        t0 = time.perf_counter()
        button.click()
        page.wait_for_function(DONE, arg=n, timeout=180_000, polling="raf")
        elapsed = time.perf_counter() - t0
        return elapsed
    finally:
        context.close()


def measure(browser, src: Path, env: dict, position: str, n: int, runs: int) -> list[float]:
    """Serve the explorer notebook with ``src`` first on the kernel's path; time ``runs``."""
    from servers import voila_notebook_server

    with tempfile.TemporaryDirectory(prefix="snapscope-explorer-bench-") as root:
        kernel_env = {**env, "PYTHONPATH": os.pathsep.join([str(src), env.get("PYTHONPATH", "")])}
        server = voila_notebook_server(Path(root), "explorer.ipynb",
                                       [CELL.format(survey=DATA, bands=BANDS)], kernel_env)
        try:
            return [search_once(browser, server.url(), position, n) for _ in range(runs)]
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="searches per checkout (median)")
    parser.add_argument("--baseline", type=Path, help="another snapscope checkout to compare")
    args = parser.parse_args()

    from dbfixtures import embedded_server
    from playwright.sync_api import sync_playwright
    from servers import CHROMIUM, CHROMIUM_ARGS, isolated_jupyter_env

    from snapscope.db._ingest import ingest

    sim = survey()
    images = [e["path"] for e in sim.exposures if e.get("path")]
    position = f"{sim.sn_ra:.7f} {sim.sn_dec:.7f}"
    checkouts = {"this checkout": ROOT / "src"}
    if args.baseline is not None:
        checkouts["baseline " + args.baseline.name] = args.baseline.resolve() / "src"
    with embedded_server("snapscope-explorer-bench-") as dsn, \
            tempfile.TemporaryDirectory(prefix="snapscope-jupyter-") as base, \
            sync_playwright() as p:
        ingest(images, "bench", "sim", image_class="ou2024", dbclient=dsn, progress=False)
        env = {**isolated_jupyter_env(Path(base)), "SNAPSCOPE_DSN": dsn}
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        print(f"{len(images)} images of 1024² ({', '.join(BANDS)}); {os.cpu_count()} CPUs; "
              f"Voila + Chromium; median of {args.runs} searches, each in a new kernel\n")
        medians = {}
        for label, src in checkouts.items():
            times = measure(browser, src, env, position, len(images), args.runs)
            medians[label] = statistics.median(times)
            print(f"{label:<28} Search -> cutouts, table, light curve: median "
                  f"{medians[label]:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})",
                  flush=True)
        browser.close()
    if len(medians) == 2:
        mine, base_t = medians.values()
        print(f"\nratio this / baseline: {mine / base_t:.2f}  target <= 0.5 "
              f"{'ok' if mine <= 0.5 * base_t else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
