"""Helpers of the browser tests and benchmarks/widget.py: Jupyter servers, Chromium, waiting.

Chromium is ``$SNAPSCOPE_CHROMIUM`` or ``/usr/bin/chromium`` (never ``playwright install``).
Servers are waited for by polling (never fixed sleeps) and stopped with their process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from waiting import wait_for  # noqa: F401  (re-exported for the browser tests)

CHROMIUM = os.environ.get("SNAPSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BIN = Path(sys.executable).parent
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

#: Records the bytes and epoch time (ms) of every websocket frame the page receives
#: (window.__wsFrames, window.__wsTimes), and the bytes of every frame it sends (window.__wsSent).
WS_COUNTER = """
(() => {
  const Orig = window.WebSocket;
  window.__wsFrames = [];
  window.__wsTimes = [];
  window.__wsSent = [];
  window.WebSocket = class extends Orig {
    send(data) {
      window.__wsSent.push(typeof data === "string" ? data.length : (data.byteLength ?? data.size));
      return super.send(data);
    }
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const n = typeof e.data === "string" ? e.data.length : (e.data.byteLength ?? e.data.size);
        window.__wsFrames.push(n);
        window.__wsTimes.push(performance.timeOrigin + performance.now());
      });
    }
  };
})();
"""

#: Turns on the views' telemetry (js/src/telemetry.ts): the data-* counters and timings that
#: widget_page.state and benchmarks/widget.py read. Off by default, as in a user's browser.
TELEMETRY = "globalThis.snapscopeTelemetry = true;"


#: True once the notebook open in JupyterLab or Notebook 7 has an idle kernel.
KERNEL_IDLE = """() => {
  const w = window.jupyterapp?.shell?.currentWidget;
  return w?.sessionContext?.session?.kernel?.status === 'idle';
}"""


def isolated_jupyter_env(base: Path) -> dict:
    """``os.environ`` with Jupyter's and IPython's config, runtime and settings directories in
    ``base`` (made here) and the environment's ``bin`` first on PATH."""
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        env[name] = str(base / name.lower())
        Path(env[name]).mkdir()
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    """True once an HTTP server answers at ``url`` (with any status: Voila says 403)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class Server:
    """A Jupyter server process in its own process group."""

    def __init__(self, cmd: list[str], port: int, cwd: Path, env: dict, log: Path) -> None:
        self.port, self.log = port, log
        self._log = open(log, "w")
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(
                lambda: self.proc.poll() is not None or _answers(self.url("api/status")),
                timeout=90,
                what=f"{cmd[0]} on port {port}",
            )
        except TimeoutError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited:\n{log.read_text()[-3000:]}")

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a minimal notebook of code cells."""
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": src,
            }
            for src in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    return path


def voila_command(notebook: Path, port: int, bin_dir: Path = BIN) -> list[str]:
    return [
        str(bin_dir / "voila"),
        str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=True",
    ]


def voila_notebook_server(root: Path, name: str, cells: list[str], env: dict,
                          bin_dir: Path = BIN) -> Server:
    """Write ``root/name`` with these code cells and serve it with the Voila of the environment
    ``bin_dir`` (stop it yourself)."""
    nb = write_notebook(root / name, cells)
    port = free_port()
    return Server(voila_command(nb, port, bin_dir), port, root, env, root / "voila.log")


def voila_fixture(name: str, cells: list[str]):
    """A module-scoped ``voila`` fixture serving a notebook of these cells (stopped afterwards)."""
    import pytest

    @pytest.fixture(scope="module")
    def voila(tmp_path_factory, jupyter_env):
        server = voila_notebook_server(tmp_path_factory.mktemp("voila"), name, cells, jupyter_env)
        yield server
        server.stop()

    return voila


def jupyter_command(port: int, root: Path, app: str = "lab", bin_dir: Path = BIN) -> list[str]:
    """Command line of JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) of the
    environment ``bin_dir``, no token, with the front end exposed as ``window.jupyterapp``."""
    app_class = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}[app]
    return [
        str(bin_dir / "jupyter"),
        app,
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--allow-root",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        f"--{app_class}.expose_app_in_browser=True",
    ]


def save_screenshot(target, path: Path) -> None:
    """Screenshot a page or locator as a small (256-colour, optimised) PNG for the README."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(target.screenshot())).convert("RGB")
    image.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
