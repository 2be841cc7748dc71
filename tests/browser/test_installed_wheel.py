"""`pip install snapscope` gives a working widget: the sdist and the wheel carry the JS bundle.

A copy of the checkout with only the files git tracks (no bundle, no node_modules, as
`pip install git+…` sees it) is built with `uv build`: the build hook runs npm and esbuild, the
sdist carries the bundle, and the wheel is built from that sdist. The wheel is installed into a
fresh virtual environment outside the checkout with its core dependencies only (at the locked
versions) plus Voila, and a notebook served by that environment shows an ImageWidget in Chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from checkout import REPO, copy_tracked_files
from servers import voila_notebook_server, wait_for
from widget_page import fail_on_traceback, settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UV = Path(sys.executable).parent / "uv"
#: The front-end bundles (src/snapscope/widgets/_bundles.py), as paths inside the wheel.
BUNDLES = ("widget", "datatable", "thumbnails")
BUNDLE_FILES = [f"snapscope/static/{name}.js" for name in BUNDLES]

CHECK_CELL = """
import importlib.util, pathlib, sys, snapscope
from snapscope.widgets import ImageWidget
from snapscope.widgets._views import DataTable, Thumbnails
site = pathlib.Path(sys.prefix).resolve()
assert pathlib.Path(snapscope.__file__).resolve().is_relative_to(site), snapscope.__file__
static = pathlib.Path(snapscope.__file__).parent / "static"
bundle = static / "widget.js"
assert bundle.stat().st_size > 20_000 and ImageWidget()._esm == bundle.read_text(), bundle
assert DataTable()._esm == (static / "datatable.js").read_text()
assert Thumbnails()._esm == (static / "thumbnails.js").read_text()
missing = [m for m in ("matplotlib", "tqdm", "galsim", "reproject") if importlib.util.find_spec(m)]
assert not missing, f"extras installed with the core wheel: {missing}"
print("installed from the wheel:", bundle)
"""

VIEW_CELL = """
import numpy as np
from snapscope.image import Numpy2DImage
y, x = np.mgrid[:300, :400]
w = ImageWidget(height="200px")
w.load_image(Numpy2DImage(data=(x + y).astype(np.float32)), image_label="ramp")
w
"""


def run(cmd: list, cwd: Path, env: dict | None = None) -> str:
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, f"{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout + res.stderr


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """sdist and wheel built by `uv build` from a copy of the tracked files."""
    src = copy_tracked_files(tmp_path_factory.mktemp("clean-checkout"))
    assert not any((src / "src" / f).exists() for f in BUNDLE_FILES)
    out = tmp_path_factory.mktemp("dist")
    run([UV, "build", "--out-dir", out, src], cwd=src)
    return next(out.glob("*.tar.gz")), next(out.glob("*.whl"))


def test_sdist_and_wheel_carry_the_bundle(dists):
    sdist, wheel = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {f"src/{f}" for f in BUNDLE_FILES} <= names
    assert {"js/src/widget.ts", "js/src/views/datatable.ts", "package-lock.json"} <= names
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        bundles = {f: whl.read(f) for f in BUNDLE_FILES}
    assert len(bundles[BUNDLE_FILES[0]]) > 20_000 and b"snapscope" in bundles[BUNDLE_FILES[0]]
    assert all(b"export" in b and b"snapscope-" in b for b in bundles.values())
    assert {"snapscope/db/migrations/0001_catalogue.sql", "snapscope/widgets/_linked.css"} <= names


@pytest.fixture(scope="module")
def wheel_env(dists, tmp_path_factory):
    """A fresh virtual environment with the wheel, its core dependencies and Voila (locked)."""
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    run([UV, "venv", "-q", "--python", sys.executable, venv], cwd=venv.parent)
    run([UV, "pip", "install", "-q", "--python", venv / "bin" / "python", dists[1], "voila", "ipykernel",
         "-c", REPO / "requirements" / "lock.txt"], cwd=venv.parent)
    return venv


def test_installed_wheel_shows_an_image_widget(wheel_env, jupyter_env, page, tmp_path):
    env = {**jupyter_env, "PATH": f"{wheel_env / 'bin'}{os.pathsep}/usr/bin:/bin"}
    env.pop("PYTHONPATH", None)  # nothing of the checkout on the path
    env.pop("VIRTUAL_ENV", None)
    server = voila_notebook_server(tmp_path, "wheel.ipynb", [CHECK_CELL, VIEW_CELL], env,
                                   bin_dir=wheel_env / "bin")
    try:
        page.goto(server.url(), wait_until="domcontentloaded")

        def drawn():
            fail_on_traceback(page)
            return settled(page)

        wait_for(drawn, timeout=120, what="the ImageWidget of the installed wheel")
        assert "installed from the wheel" in page.evaluate("document.body.innerText")
    finally:
        server.stop()
