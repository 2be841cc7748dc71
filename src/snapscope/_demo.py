"""The demo: a small simulated survey in a catalogue, and JupyterLab on the tour notebook.

``snapscope demo`` (and ``make demo``) runs four steps, each with progress shown, each skipped
when already done, so a second run starts in seconds:

1. start the embedded PostgreSQL (``snapscope db start``) — or use ``SNAPSCOPE_DSN``;
2. simulate the survey (:func:`demo_survey`) if it is not there yet;
3. ingest its headers into the catalogue (idempotent);
4. open JupyterLab on ``notebooks/01_image_api_tour.ipynb``.

:func:`demo_survey` is also what the tutorial notebooks call, so they need no set-up cell.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["demo_survey", "demo_directory", "add_parser", "DEMO_TAG", "DEMO_PROCESS"]

DEMO_TAG = "demo"
DEMO_PROCESS = "simulated_l2image"
_DEFAULTS = {"size": 1024, "n_images": 24, "bands": ("Y106", "J129", "H158")}


def demo_directory() -> Path:
    """Where the demo survey lives: ``SNAPSCOPE_DEMO_DIR``, else ``<data dir>/demo-survey``."""
    from snapscope.config import data_dir

    env = os.environ.get("SNAPSCOPE_DEMO_DIR")
    return Path(env) if env else data_dir() / "demo-survey"


def demo_survey(directory: str | Path | None = None, *, size: int | None = None,
                n_images: int | None = None, progress: bool = True) -> Any:
    """Return the demo survey, simulating it first if it does not exist (needs the ``sim`` extra).

    Parameters
    ----------
    directory : str or Path, optional
        Where the files are (default :func:`demo_directory`).
    size : int, optional
        Image side in pixels (default ``SNAPSCOPE_DEMO_SIZE`` or 1024).
    n_images : int, optional
        Number of exposures over three bands (default ``SNAPSCOPE_DEMO_IMAGES`` or 24).
    progress : bool
        Show a progress bar while simulating.

    Returns
    -------
    snapscope.sim.Survey
        ``.path``, ``.exposures`` (one dict per file: path, band, mjd, true SN flux…),
        ``.sn_ra``, ``.sn_dec``.
    """
    from snapscope.sim import make_survey

    directory = Path(directory) if directory is not None else demo_directory()
    size = size or int(os.environ.get("SNAPSCOPE_DEMO_SIZE", _DEFAULTS["size"]))
    n_images = n_images or int(os.environ.get("SNAPSCOPE_DEMO_IMAGES", _DEFAULTS["n_images"]))
    return make_survey(directory, n_images=n_images, size=size, bands=_DEFAULTS["bands"],
                       seed=2024, host=True, progress=progress)


def _step(n: int, text: str) -> None:
    print(f"[{n}/4] {text}", flush=True)


def prepare_demo(size: int | None = None, n_images: int | None = None) -> tuple[str, Any]:
    """Steps 1–3: database, survey, catalogue. Return (DSN, survey); each step is idempotent."""
    from snapscope.db import default_dsn
    from snapscope.db._ingest import ingest

    _step(1, "database (SNAPSCOPE_DSN, else the embedded PostgreSQL)")
    dsn = default_dsn()
    _step(2, f"simulated survey in {demo_directory()}")
    survey = demo_survey(size=size, n_images=n_images)
    _step(3, "catalogue")
    report = ingest([e["path"] for e in survey.exposures], DEMO_TAG, DEMO_PROCESS,
                    image_class="ou2024", dbclient=dsn)
    print(f"      {report.summary()}", flush=True)
    return dsn, survey


def run_demo(args: argparse.Namespace) -> int:
    """Prepare everything, then open JupyterLab (unless ``--no-lab``)."""
    dsn, _ = prepare_demo(size=args.size, n_images=args.images)
    if args.no_lab:
        return 0
    _step(4, "JupyterLab")
    notebook = Path(args.notebooks) / "01_image_api_tour.ipynb"
    lab = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or shutil.which("jupyter")
    if lab is None:
        raise OSError("JupyterLab is not installed: pip install jupyterlab")
    if not notebook.exists():  # an installed package, outside the repository: open the survey
        print(f"      {notebook} not found (run from the snapscope repository for the tour); "
              f"opening JupyterLab in {demo_directory()}", flush=True)
        notebook = demo_directory()
    cmd = [lab, "lab", str(notebook)]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    return subprocess.call(cmd, env={**os.environ, "SNAPSCOPE_DSN": dsn})


def add_parser(subparsers: Any) -> None:
    """Register ``snapscope demo``."""
    p = subparsers.add_parser("demo", help="simulate a small survey, catalogue it, open the tour",
                              description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=None, help="image side in pixels (default 1024)")
    p.add_argument("--images", type=int, default=None, help="number of images (default 24)")
    p.add_argument("--notebooks", default="notebooks", help="directory of the tutorial notebooks")
    p.add_argument("--no-lab", action="store_true", help="prepare everything, do not open JupyterLab")
    p.set_defaults(func=run_demo)
