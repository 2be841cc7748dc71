"""Shared fixtures. Service fixtures (PostgreSQL, Voila/JupyterLab) live in their suites'
conftest files; with CI=true a missing service is an error, never a skip."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytest_plugins = [
    "dbfixtures",  # PostgreSQL fixtures, for tests/db and the notebooks
    "hostedsurvey",  # supernovae on host galaxies, for difference imaging
]


@pytest.fixture(autouse=True, scope="session")
def _isolated_snapscope_dirs(tmp_path_factory):
    """Keep caches and embedded-server data of the test session out of the user's directories."""
    base = tmp_path_factory.mktemp("snapscope-home")
    old = {k: os.environ.get(k) for k in ("SNAPSCOPE_TMP", "SNAPSCOPE_DATA")}
    os.environ.setdefault("SNAPSCOPE_TMP", str(base / "cache"))
    os.environ.setdefault("SNAPSCOPE_DATA", str(base / "data"))
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def sim_survey(tmp_path_factory):
    """A small simulated survey (no host galaxy): 2 bands × 6 epochs of 256² (read-only)."""
    sim = pytest.importorskip("snapscope.sim") if not IN_CI else __import__("snapscope.sim").sim
    out = tmp_path_factory.mktemp("survey")
    return sim.make_survey(out, size=256, bands=("Y106", "H158"), n_images=12, seed=7, host=False,
                           progress=False)


_SUITE_ORDER = {"unit": 0, "db": 1, "notebooks": 2, "binder": 3, "browser": 4}


def pytest_collection_modifyitems(config, items):
    """Run the suites fastest-first and the browser suite last.

    Playwright's sync API keeps an event loop running in the main thread for the rest of the
    session once a browser test has run; tests that check for a running loop must come before.
    """
    def suite(item):
        parts = Path(str(item.fspath)).relative_to(Path(__file__).parent).parts
        return _SUITE_ORDER.get(parts[0], 0)

    items.sort(key=suite)  # stable: keeps the order within each suite
