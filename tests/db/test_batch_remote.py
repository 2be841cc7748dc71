"""snapscope.batch, unchanged, on a remote ``dask.distributed`` cluster, images from the catalogue.

The scheduler and two workers are separate processes started with the ``dask scheduler`` /
``dask worker`` command lines (not an in-process ``LocalCluster``); the test connects a
``Client`` to the scheduler's address and calls ``batch.forced_photometry`` / ``batch.cutouts``
on images found with ``Image.find_images`` in a real PostgreSQL catalogue.

Images must be read by the workers from their catalogue paths, never shipped from the client.
The catalogue stores paths relative to ``SNAPSCOPE_OU24_IMAGES``: the workers have it set to
the survey directory (a shared filesystem), the test process points it at a directory that
does not exist, so the client *cannot* open any image; every image is measured all the same,
each task carries a catalogue row of a few hundred bytes, and the workers hold the survey's
files open afterwards. The numbers equal the calling thread's, bit for bit.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import snapscope
from snapscope import batch
from snapscope.image import Image, OpenUniverse2024FITSImage

pytestmark = [pytest.mark.db, pytest.mark.slow]
distributed = pytest.importorskip("distributed")

STARTUP = 60.0  # s: bound on the scheduler and workers getting ready (a few s on 2 cores)


def _dask_command() -> list[str]:
    """The ``dask`` command line of this Python environment (next to ``sys.executable``)."""
    exe = Path(sys.executable).parent / "dask"
    found = str(exe) if exe.exists() else shutil.which("dask")
    if found is None:
        pytest.fail("no `dask` command line next to the Python running the tests", pytrace=False)
    return [found]


def _logs(directory: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(directory.glob("*.log")))


def _stop(procs: list[subprocess.Popen]) -> None:
    """Wait for each process to exit; past 10 s, SIGTERM its group, past 10 more, SIGKILL it."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        running = [p for p in procs if p.poll() is None]
        for proc in running if sig is not None else ():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        deadline = time.monotonic() + 10
        for proc in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.01))


@pytest.fixture(scope="module")
def remote_client(sim_survey, tmp_path_factory):
    """A Client of a scheduler + 2 workers (``dask`` command lines, separate processes).

    The workers see the images under ``SNAPSCOPE_OU24_IMAGES`` = the survey directory.
    """
    work = tmp_path_factory.mktemp("dask-remote")
    address_file = work / "scheduler.json"
    env = {**os.environ, "SNAPSCOPE_OU24_IMAGES": str(sim_survey.path),
           "PYTHONPATH": os.pathsep.join([str(Path(snapscope.__file__).parents[1]),
                                         os.environ.get("PYTHONPATH", "")])}
    dask = _dask_command()
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        with open(work / f"{name}.log", "w") as log:
            procs.append(subprocess.Popen([*dask, *args], env=env, cwd=work, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        return procs[-1]

    client = None
    try:
        scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(address_file))
        for i in range(2):
            start(f"worker{i}", "worker", "--scheduler-file", str(address_file),
                  "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                  "--name", f"remote-{i}", "--local-directory", str(work / f"worker{i}"))
        deadline = time.monotonic() + STARTUP
        while not (address_file.exists() and address_file.stat().st_size):  # the address
            if scheduler.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dask scheduler did not start:\n{_logs(work)}", pytrace=False)
            time.sleep(0.02)
        client = distributed.Client(scheduler_file=str(address_file), timeout=STARTUP)
        try:
            client.wait_for_workers(2, timeout=STARTUP)
        except (TimeoutError, distributed.TimeoutError):
            pytest.fail(f"the dask workers did not join:\n{_logs(work)}", pytrace=False)
        yield client
    finally:
        if client is not None:  # the scheduler closes its workers, then itself
            with contextlib.suppress(Exception):
                client.shutdown()
        _stop(procs)


@pytest.fixture
def catalogue(sim_survey, dbclient, provenance, monkeypatch):
    """The survey's images saved in the catalogue (paths relative to the survey directory).

    Returns ``find`` (images around the supernova, as ``find_images`` gives them, resolved
    against ``SNAPSCOPE_OU24_IMAGES`` as it is when called) and the PSFs.
    """
    from snapscope.psf import PSF

    monkeypatch.setenv("SNAPSCOPE_OU24_IMAGES", str(sim_survey.path))
    images = [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in sim_survey.exposures]
    for image in images:
        image.provenance_id = provenance.id
    assert Image.bulk_save_to_db(images, dbclient=dbclient) == len(images)
    assert {str(im.filepath) for im in images} == {Path(e["path"]).name
                                                  for e in sim_survey.exposures}

    def find() -> list:
        return Image.find_images(provenance=provenance, ra=sim_survey.sn_ra, dec=sim_survey.sn_dec,
                                 order_by="mjd", dbclient=dbclient)

    psfs = {b: PSF.get_psf_object("OversampledImagePSF", psffile=sim_survey.path / f"epsf_{b}_1.fits")
            for b in ("Y106", "H158")}
    return find, psfs


def _files_open_on_workers(client) -> set[str]:
    """Files each worker process holds open (the image file cache keeps one descriptor each)."""
    def open_files() -> list[str]:  # runs on the workers: pickled by value
        import os

        out = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                out.append(os.readlink(f"/proc/self/fd/{fd}"))
        return out

    return {path for paths in client.run(open_files).values() for path in paths}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_batch_on_a_remote_scheduler_reads_catalogue_paths_on_the_workers(
        sim_survey, catalogue, remote_client, monkeypatch, tmp_path):
    find, psfs = catalogue
    local = find()  # the calling thread's images, resolved against the real directory
    positions = [(sim_survey.sn_ra, sim_survey.sn_dec), (sim_survey.sn_ra + 2e-3, sim_survey.sn_dec)]
    expected = batch.forced_photometry(local, positions, psf=psfs, progress=False)
    expected_stack = batch.cutouts(local, positions[0], 21, progress=False)
    assert len(local) == len(sim_survey.exposures) and len(expected) == 4 * len(local)

    monkeypatch.setenv("SNAPSCOPE_OU24_IMAGES", str(tmp_path / "not-on-this-machine"))
    remote = find()  # the same rows, but no file reachable from here
    assert [im.id for im in remote] == [im.id for im in local]
    assert not any(Path(im.full_filepath).exists() for im in remote)
    shipped = [batch.portable(im) for im in remote]
    assert all(dict(s.row)["filepath"] == str(im.filepath) for s, im in zip(shipped, remote,
                                                                            strict=True))
    pixels = sum(plane.nbytes for plane in local[0].get_data())
    assert max(len(pickle.dumps(s)) for s in shipped) < 1000 < pixels // 100

    table = batch.forced_photometry(remote, positions, psf=psfs, client=remote_client,
                                    progress=False)
    assert table.colnames == expected.colnames and len(table) == len(expected)
    for name in table.colnames:
        np.testing.assert_array_equal(table[name], expected[name], err_msg=name)
    assert table.meta["skipped"] == expected.meta["skipped"] == []
    assert set(table["path"]) == {str(Path(e["path"]).resolve()) for e in sim_survey.exposures}

    stack = batch.cutouts(remote, positions[0], 21, client=remote_client, progress=False)
    assert stack.errors == [None] * len(remote)
    for got, want in zip(stack, expected_stack, strict=True):
        for plane in ("data", "noise", "flags"):
            np.testing.assert_array_equal(getattr(got, plane), getattr(want, plane))
        assert (got.band, got.mjd, got.get_zeropoint()) == (want.band, want.mjd,
                                                            want.get_zeropoint())

    survey_files = {str(Path(e["path"]).resolve()) for e in sim_survey.exposures}
    assert survey_files <= _files_open_on_workers(remote_client)
