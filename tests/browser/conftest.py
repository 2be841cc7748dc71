"""Browser-test fixtures: isolated Jupyter environment, Chromium, a page that counts bytes
with the views' telemetry on.

Servers run with JUPYTER_CONFIG_DIR, JUPYTER_RUNTIME_DIR, JUPYTERLAB_SETTINGS_DIR and IPYTHONDIR
in temporary directories and are always stopped. Without Chromium (or Playwright) the tests
skip, except with ``CI=true``, where that is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from servers import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, TELEMETRY, WS_COUNTER, isolated_jupyter_env

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need(what: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests need {what} (CI=true)")
    pytest.skip(f"needs {what}")


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory):
    """Environment for the servers, isolated from the user's Jupyter and IPython config."""
    base = tmp_path_factory.mktemp("jupyter")
    env = isolated_jupyter_env(base)
    env["SNAPSCOPE_TEST_CLICK_LOG"] = str(base / "clicks.jsonl")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).parent), env.get("PYTHONPATH")) if p
    )
    return env


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _need(f"Chromium at {CHROMIUM} (set SNAPSCOPE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the playwright package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.add_init_script(WS_COUNTER)
    context.add_init_script(TELEMETRY)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
