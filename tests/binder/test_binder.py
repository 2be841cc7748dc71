"""Binder's postBuild and start scripts, run as a non-root user in a fresh virtual environment.

This is what a Binder image does: no root, the Debian/Ubuntu system Python (3.11 here, so this
also keeps snapscope working on 3.11), ``pip install -r binder/requirements.txt`` (the locked,
hash-checked versions: repo2docker's step before postBuild), snapscope itself from the checkout,
the JS bundle built with npm, the demo survey simulated and catalogued in the user's own embedded
PostgreSQL; then the ``start`` wrapper starts the database and exports ``SNAPSCOPE_DSN`` before
running the notebook server (here: a Python check, and the core Image API unit tests under that interpreter).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from checkout import copy_tracked_files

USER = "snapbinder"
SYSTEM_PYTHON = "/usr/bin/python3"
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create the unprivileged user"),
    pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason="no system Python"),
]

CHECK = r"""
import os, snapscope
from snapscope.image import Image, OpenUniverse2024FITSImage
dsn = os.environ["SNAPSCOPE_DSN"]
images = Image.find_images(provenance_tag="demo", process="simulated_l2image", dbclient=dsn)
survey = snapscope.demo_survey()
assert len(images) == len(survey.exposures) == 4, (len(images), len(survey.exposures))
hits = Image.find_images(provenance_tag="demo", process="simulated_l2image", dbclient=dsn,
                         ra=survey.sn_ra, dec=survey.sn_dec)
assert len(hits) == 4, len(hits)
im = hits[0]
assert isinstance(im, OpenUniverse2024FITSImage) and im.image_shape == (128, 128)
cut = im.get_ra_dec_cutout(survey.sn_ra, survey.sn_dec, 11)
print("binder check ok", len(images), cut.image_shape)
"""


def _run(cmd: str, env: dict, cwd: Path, timeout: int = 900) -> str:
    cmd = f"export HOME={shlex.quote(env['HOME'])} PATH={shlex.quote(env['PATH'])}; {cmd}"
    res = subprocess.run([RUNUSER, "-u", USER, "--", "bash", "-c", cmd], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, (f"{cmd!r} failed ({res.returncode}):\n"
                                 f"{res.stdout[-4000:]}\n{res.stderr[-4000:]}")
    return res.stdout


@pytest.fixture(scope="module")
def binder_home():
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--shell", "/bin/bash", USER], check=True)
    base = Path(tempfile.mkdtemp(prefix="snapscope-binder-", dir="/var/tmp"))  # outside root's 0700 dirs
    home, repo = base / "home", base / "repo"
    home.mkdir()
    copy_tracked_files(repo)
    for p in (base, *base.rglob("*")):
        shutil.chown(p, USER, USER)
    os.chmod(base, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNAPSCOPE_", "VIRTUAL_ENV", "PYENV"))}
    env.update(HOME=str(home), PATH=f"{home}/venv/bin:/usr/local/bin:/usr/bin:/bin", CI="",
               SNAPSCOPE_DEMO_SIZE="128", SNAPSCOPE_DEMO_IMAGES="4",
               npm_config_cache=str(home / ".npm"))
    _run(f"{SYSTEM_PYTHON} -m venv {home}/venv && pip install -q --upgrade pip", env, repo)
    yield home, repo, env
    subprocess.run([RUNUSER, "-u", USER, "--", "bash", "-c",
                    f"export HOME={shlex.quote(str(home))}; {home}/venv/bin/snapscope db stop"],
                   env=env, cwd=repo, capture_output=True, timeout=120)
    shutil.rmtree(base, ignore_errors=True)


def test_postbuild_then_start(binder_home):
    home, repo, env = binder_home
    _run("pip install -q --require-hashes -r binder/requirements.txt", env, repo)
    out = _run("binder/postBuild", env, repo)
    assert (repo / "src/snapscope/static/widget.js").exists(), "postBuild builds the JS bundle"
    assert not (repo / "node_modules").exists()
    out = _run(f"binder/start python -c '{CHECK}'", env, repo)
    assert "binder check ok 4 (11, 11)" in out
    server = _run("snapscope db status", env, repo)
    assert "running:   yes" in server


def test_core_unit_tests_pass_on_the_system_python(binder_home):
    home, repo, env = binder_home
    _run("pip install -q pytest pytest-timeout", env, repo)
    out = _run("python -m pytest -q -p no:cacheprovider tests/unit/test_image_properties.py "
               "tests/unit/test_image_data.py tests/unit/test_cutouts.py tests/unit/test_save.py "
               "tests/unit/test_photometry.py tests/unit/test_image_edge_cases.py "
               "tests/unit/test_wcs_geometry.py", env, repo)
    assert " passed" in out and "failed" not in out
