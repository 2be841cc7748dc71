"""JupyterLab smoke test: the widget renders in Lab's dark theme, with markers and mask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import (
    KERNEL_IDLE,
    Server,
    free_port,
    jupyter_command,
    save_screenshot,
    wait_for,
    write_notebook,
)
from widget_page import STARS_CELL, settled

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory, jupyter_env):
    root = tmp_path_factory.mktemp("lab")
    write_notebook(root / "stars.ipynb", [STARS_CELL])
    settings = Path(jupyter_env["JUPYTERLAB_SETTINGS_DIR"])
    theme = settings / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    theme.parent.mkdir(parents=True, exist_ok=True)
    theme.write_text(json.dumps({"theme": "JupyterLab Dark"}))
    labconfig = Path(jupyter_env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    port = free_port()
    server = Server(jupyter_command(port, root), port, root, jupyter_env, root / "lab.log")
    yield server
    server.stop()


def test_renders_in_jupyterlab_dark_theme(page, lab, screenshots):
    page.goto(lab.url("lab/tree/stars.ipynb?reset"), wait_until="domcontentloaded")
    wait_for(lambda: page.evaluate(KERNEL_IDLE), timeout=120, what="an idle kernel")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    s = wait_for(lambda: settled(page), timeout=120, what="the viewer")
    assert s["renderer"] == "webgl2"
    background = page.evaluate(
        "getComputedStyle(document.body).getPropertyValue('--jp-layout-color3').trim()"
    )
    assert background.lower() not in ("", "#cccccc")  # the dark theme's colour is used
    status = page.evaluate("document.querySelector('.snapscope-status').textContent")
    assert status == ""  # no cursor yet
    viewer = page.locator(".snapscope-viewer").first
    box = viewer.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
    wait_for(
        lambda: "RA " in page.evaluate("document.querySelector('.snapscope-status').textContent"),
        what="the readout",
    )
    save_screenshot(viewer, screenshots / "jupyterlab_dark.png")
