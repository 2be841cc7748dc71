"""Jupyter Notebook 7 smoke test: the widget renders its image, tiles and markers."""

from __future__ import annotations

import pytest
from servers import KERNEL_IDLE, Server, free_port, jupyter_command, wait_for, write_notebook
from widget_page import READ_PIXELS, STARS_CELL, settled

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory, jupyter_env):
    pytest.importorskip("notebook", minversion="7")
    root = tmp_path_factory.mktemp("notebook7")
    write_notebook(root / "stars.ipynb", [STARS_CELL])
    port = free_port()
    server = Server(
        jupyter_command(port, root, app="notebook"), port, root, jupyter_env, root / "nb.log"
    )
    yield server
    server.stop()


def test_renders_in_notebook7(page, notebook7):
    page.goto(notebook7.url("notebooks/stars.ipynb"), wait_until="domcontentloaded")
    wait_for(lambda: page.evaluate(KERNEL_IDLE), timeout=120, what="an idle kernel")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    s = wait_for(lambda: settled(page), timeout=120, what="the viewer")
    assert int(s["received"]) >= 1 and s["renderer"] in ("webgl2", "canvas")
    # The star field's pixels vary (magma over noise and stars); a blank canvas would not.
    points = [[s["width"] * fx, s["height"] * fy] for fx in (0.3, 0.5, 0.7) for fy in (0.3, 0.7)]
    colours = {tuple(rgba) for rgba in page.evaluate(READ_PIXELS, [0, points])}
    assert len(colours) > 1 and all(c[3] == 255 for c in colours)
