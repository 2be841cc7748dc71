"""``snapscope db ingest``: headers only, idempotent, concurrent-safe, with a skip report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from fitsmaker import make_ou2024_file

from snapscope.cli import main
from snapscope.image import FITSImageStdHeaders, Image, OpenUniverse2024FITSImage

pytestmark = pytest.mark.db


def make_files(directory: Path, n: int, start: int = 0) -> list[tuple[Path, dict]]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        ra = (359.98 + 0.01 * i) % 360  # straddles RA = 0
        out.append(
            make_ou2024_file(
                directory,
                shape=(64, 48),
                band=("Y106", "H158")[i % 2],
                pointing=100 + i,
                sca=1 + i % 18,
                mjd=62000.0 + i,
                ra=ra,
                dec=-30.0,
                rot_deg=15.0 * i,
                gz=bool(i % 2),
                seed=i,
            )
        )
    return out


@pytest.fixture
def survey(tmp_path):
    files = make_files(tmp_path / "survey", 6)
    junk = tmp_path / "survey" / "junk"
    junk.mkdir()
    fits.PrimaryHDU(np.zeros((8, 8), "f4")).writeto(junk / "nowcs.fits")
    (junk / "corrupt.fits").write_bytes(b"this is not a FITS file at all" * 100)
    (junk / "notes.txt").write_text("ignored: not a FITS name")
    return tmp_path / "survey", files


def run_cli(*args: str) -> tuple[int, str]:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(list(args))
    return rc, buf.getvalue()


def test_ingest_reads_headers_and_reports_skips(survey, db_dsn, capsys):
    directory, files = survey
    rc, out = run_cli(
        "db",
        "ingest",
        str(directory),
        "--provenance-tag",
        "sim",
        "--process",
        "import",
        "--no-progress",
        "--verbose",
        "--dsn",
        db_dsn,
    )
    assert rc == 0
    assert "added 6 images, skipped 2" in out
    assert "nowcs.fits: no WCS" in out
    assert "corrupt.fits: unreadable" in out
    assert "notes.txt" not in out  # directories are searched for FITS names only
    found = Image.find_images(provenance_tag="sim", process="import", order_by="mjd")
    assert [type(im) for im in found] == [OpenUniverse2024FITSImage] * 6
    for im, (path, truth) in zip(found, files, strict=True):
        assert Path(im.full_filepath) == path.resolve()
        hdr = truth["header"]
        assert (im.band, im.sca, im.mjd) == (hdr["FILTER"], hdr["SCA_NUM"], hdr["MJD-OBS"])
        assert im.observation_id == path.name.split("_")[5]  # the pointing
        w = truth["wcs"]
        for name, (x, y) in {"00": (0, 0), "01": (0, 63), "10": (47, 0), "11": (47, 63)}.items():
            ra, dec = w.pixel_to_world_values(x, y)
            assert getattr(im, f"ra_corner_{name}") == pytest.approx(float(ra) % 360, abs=1e-9)
            assert getattr(im, f"dec_corner_{name}") == pytest.approx(float(dec), abs=1e-9)
        # found by position, right across RA = 0/360
        centre = w.pixel_to_world_values(23.5, 31.5)
        assert path.name in [
            p.name
            for p in (
                Path(i.full_filepath)
                for i in Image.find_images(ra=float(centre[0]), dec=float(centre[1]))
            )
        ]


def test_ingest_is_idempotent(survey, db_dsn):
    directory, files = survey
    args = (
        "db",
        "ingest",
        str(directory),
        "--provenance-tag",
        "sim",
        "--process",
        "import",
        "--no-progress",
        "--dsn",
        db_dsn,
    )
    assert "added 6 images" in run_cli(*args)[1]
    rc, out = run_cli(*args, "--verbose")
    assert rc == 0 and "added 0 images, skipped 8" in out
    assert out.count(": already catalogued: filepath is in l2image") == 6
    assert len(Image.find_images()) == 6


def test_ingest_does_not_read_pixels(survey, db_dsn, monkeypatch):
    from snapscope.db._ingest import ingest
    from snapscope.image import _fitsfile

    def no_pixels(*args, **kwargs):
        raise AssertionError("ingest read pixels")

    for name in ("decompressed_copy",):
        monkeypatch.setattr(_fitsfile, name, no_pixels)
    report = ingest([survey[0]], "sim", "import", dbclient=db_dsn, progress=False)
    assert len(report.added) == 6


def test_generic_fits_and_explicit_files(tmp_path, db_dsn):
    from snapscope.db._ingest import ingest

    path, truth = make_ou2024_file(tmp_path, shape=(32, 32), ra=150.0, dec=2.0)
    plain = tmp_path / "plain.fits"
    header = truth["wcs"].to_header()
    header.update({"BAND": "R062", "MJD": 61000.5, "EXPTIME": 60.0})
    fits.PrimaryHDU(np.zeros((32, 32), "f4"), header).writeto(plain)
    report = ingest(
        [plain, tmp_path / "missing.fits"], "t", "generic", dbclient=db_dsn, progress=False
    )
    assert report.added == [str(plain.resolve())]
    assert report.skipped[str((tmp_path / "missing.fits").resolve())].startswith("missing")
    (im,) = Image.find_images(provenance_tag="t", process="generic")
    assert type(im) is FITSImageStdHeaders
    assert (im.band, im.mjd, im.exptime) == ("R062", 61000.5, 60.0)
    with pytest.raises(ValueError, match="image_class must be one of"):
        ingest([plain], "t", "generic", image_class="jpeg", dbclient=db_dsn)


def test_two_concurrent_ingests_write_each_row_once(tmp_path, db_dsn):
    make_files(tmp_path / "many", 24)
    env = {**os.environ, "SNAPSCOPE_DSN": db_dsn}
    cmd = [
        sys.executable,
        "-m",
        "snapscope.cli",
        "db",
        "ingest",
        str(tmp_path / "many"),
        "--provenance-tag",
        "sim",
        "--process",
        "import",
        "--no-progress",
        "--batch-size",
        "5",
    ]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    added = [int(o.split("added ")[1].split()[0]) for o, _ in outs]
    assert sum(added) == 24
    rows = Image.find_images()
    assert len(rows) == 24 and len({str(r.filepath) for r in rows}) == 24
