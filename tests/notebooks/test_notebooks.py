"""Every tutorial notebook runs top to bottom (nbclient, a real kernel, the real simulator).

The notebooks call ``snapscope.demo_survey()``; here it is pointed at a small session survey
(256² images) so the whole set runs in well under two minutes, and at a fresh database of the
test server (``SNAPSCOPE_DSN``, set by the ``db_dsn`` fixture).
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory):
    demo = tmp_path_factory.mktemp("demo-survey")
    return {"SNAPSCOPE_DEMO_DIR": str(demo), "SNAPSCOPE_DEMO_SIZE": "256",
            "SNAPSCOPE_DEMO_IMAGES": "12", "MPLBACKEND": "Agg"}


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, notebook_env, db_dsn, tmp_path, monkeypatch):
    for key, value in notebook_env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} has committed outputs; strip them"
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
