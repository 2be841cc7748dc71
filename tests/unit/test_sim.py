"""snapscope.sim: the offline Roman image simulator.

Independent truths used here: GalSim's own WCS (rebuilt from the header's boresight and roll),
astropy's reading of the header, the public OU2024 truth tables (pixel positions of real
objects in real visits), photutils aperture photometry, roman_datamodels' DQ bits.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

galsim = pytest.importorskip("galsim")

from astropy.io import fits  # noqa: E402
from astropy.stats import SigmaClip  # noqa: E402
from astropy.table import Table  # noqa: E402
from astropy.wcs import WCS  # noqa: E402

import snapscope.sim as sim  # noqa: E402
from snapscope import roman  # noqa: E402
from snapscope.sim import _noise, _pointing  # noqa: E402
from snapscope.sim._write import atomic_path  # noqa: E402

KEYWORDS = (
    "FILTER BAND SCA_NUM SCA POINTING MJD-OBS MJD DATE-OBS EXPTIME ZPTMAG ZP_AB ZPT BUNIT "
    "GAIN RDNOISE SKY_MEAN SKYLEVEL SATURATE RA DEC RA_TARG DEC_TARG PA_FPA POSANG X0_SCA "
    "Y0_SCA SIMSEED INSTRUME CTYPE1 CTYPE2 CRPIX1 CRPIX2 CRVAL1 CRVAL2 CD1_1 CD1_2 CD2_1 "
    "CD2_2 A_ORDER B_ORDER"
).split()
#: DQ bits that make a pixel unusable for photometry (DO_NOT_USE, SATURATED, JUMP_DET, DEAD, HOT).
BAD = 1 | 2 | 4 | 1024 | 2048


# ----------------------------------------------------------------------------- fixtures (read-only)


@pytest.fixture(scope="session")
def survey(tmp_path_factory):
    """10 exposures of 256² (Y106 and H158, template + 4 epochs), no host, made by 2 workers."""
    return sim.make_survey(
        tmp_path_factory.mktemp("sim-survey"),
        n_images=10,
        size=256,
        seed=11,
        host=False,
        progress=False,
        workers=2,
    )


@pytest.fixture(scope="session")
def exposure_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sim-exposures")


@pytest.fixture(scope="session")
def hosted(exposure_dir):
    """One 128² Y106 exposure at peak with its host, as written by make_exposure."""
    return sim.make_exposure(exposure_dir / "a", size=128, seed=3, mjd=62472.0)


def _open(path):
    return fits.open(path, memmap=False)


def _planes(path):
    with _open(path) as hdul:
        return [hdul[name].data.copy() for name in ("SCI", "ERR", "DQ")], hdul["SCI"].header.copy()


def _galsim_wcs(header):
    """GalSim's Roman WCS for the header's boresight, roll and SCA (full-SCA, 1-based pixels)."""
    boresight = galsim.CelestialCoord(
        header["RA_TARG"] * galsim.degrees, header["DEC_TARG"] * galsim.degrees
    )
    with _pointing.any_position_allowed():
        return galsim.roman.getWCS(
            boresight, PA=header["PA_FPA"] * galsim.degrees, SCAs=header["SCA_NUM"], PA_is_FPA=True
        )[header["SCA_NUM"]]


def _assert_wcs_matches_galsim(header, max_mas=1.0):
    n = header["NAXIS1"]
    i = np.array([0.0, n - 1, 0, n - 1, (n - 1) / 2, 17.3, n / 3])
    j = np.array([0.0, 0, n - 1, n - 1, (n - 1) / 2, n - 5.6, n / 7])
    ra, dec = WCS(header).all_pix2world(i, j, 0)
    gs = _galsim_wcs(header)
    for k in range(len(i)):
        world = gs.toWorld(
            galsim.PositionD(i[k] + header["X0_SCA"] + 1, j[k] + header["Y0_SCA"] + 1)
        )
        ours = galsim.CelestialCoord(ra[k] * galsim.degrees, dec[k] * galsim.degrees)
        assert world.distanceTo(ours) / galsim.arcsec * 1e3 < max_mas


# ----------------------------------------------------------------------------- files and headers


def test_survey_files_and_layout(survey):
    assert len(survey) == 10 and survey.manifest_path.is_file()
    assert (survey.path / "sky_catalog.ecsv").is_file()
    for band in ("Y106", "H158"):
        assert (survey.path / f"epsf_{band}_1.fits").is_file()
    for e in survey.exposures:
        name = Path(e["path"]).name
        assert name == f"Roman_TDS_simple_model_{e['band']}_{e['pointing']}_{e['sca']}.fits"
        assert (
            Path(e["truth_path"]).name
            == f"Roman_TDS_index_{e['band']}_{e['pointing']}_{e['sca']}.ecsv"
        )
        with _open(e["path"]) as hdul:
            assert [h.name for h in hdul] == ["PRIMARY", "SCI", "ERR", "DQ"]
            assert hdul[0].data is None
            assert hdul["SCI"].data.dtype == np.dtype(">f4") and hdul["ERR"].data.dtype == np.dtype(
                ">f4"
            )
            assert hdul["DQ"].data.dtype == np.uint32
            for name in ("SCI", "ERR", "DQ"):
                header = hdul[name].header
                assert [k for k in KEYWORDS if k not in header] == []
                assert header["INSTRUME"] == "WFI" and header["BUNIT"] == "electron"
                assert header["NAXIS1"] == header["NAXIS2"] == 256
    assert not list(survey.path.glob(".*.tmp"))


def test_zeropoint_keywords_follow_the_ou2024_convention(survey):
    bandpasses = galsim.roman.getBandpasses()
    for e in survey.exposures:
        with _open(e["path"]) as hdul:
            h = hdul["SCI"].header
        assert bandpasses[h["FILTER"]].zeropoint + h["ZPTMAG"] == pytest.approx(
            h["ZP_AB"], abs=1e-9
        )
        assert h["ZPT"] == h["ZP_AB"] == pytest.approx(e["zp_ab"])
        assert h["ZPTMAG"] == pytest.approx(
            2.5 * math.log10(h["EXPTIME"] * galsim.roman.collecting_area)
        )
        assert h["SKY_MEAN"] == h["SKYLEVEL"] == pytest.approx(e["sky"])
        assert h["MJD-OBS"] == h["MJD"] == e["mjd"] and h["POINTING"] == e["pointing"]
    y106 = next(e for e in survey.exposures if e["band"] == "Y106")
    assert y106["zp_ab"] == pytest.approx(32.662, abs=1e-3)  # OU2024's Y106 value (302.275 s)


def test_header_wcs_agrees_with_galsim_to_a_milliarcsecond(survey, hosted):
    for e in [*survey.exposures[:4], hosted]:
        with _open(e["path"]) as hdul:
            for name in ("SCI", "ERR", "DQ"):
                _assert_wcs_matches_galsim(hdul[name].header)


def test_truth_table_positions_match_the_wcs(survey):
    for e in survey.exposures[:4]:
        truth = Table.read(e["truth_path"], format="ascii.ecsv")
        with _open(e["path"]) as hdul:
            wcs = WCS(hdul["SCI"].header)
        x, y = wcs.all_world2pix(truth["ra"], truth["dec"], 0)
        np.testing.assert_allclose(x, truth["x"], atol=2e-3)
        np.testing.assert_allclose(y, truth["y"], atol=2e-3)
        sn = truth[truth["object_id"] == sim.SN_ID]
        assert len(sn) == 1 and sn["obj_type"][0] == "transient"
        assert (sn["x"][0], sn["y"][0]) == pytest.approx((e["sn_x"], e["sn_y"]), abs=1e-6)
        assert sn["flux"][0] == pytest.approx(e["sn_flux"])
        assert (sn["ra"][0], sn["dec"][0]) == (survey.sn_ra, survey.sn_dec)
        assert set(truth["obj_type"]) <= {"star", "galaxy", "transient"}


def test_static_sky_is_shared_by_all_exposures(survey):
    first, other = (Table.read(survey.exposures[k]["truth_path"]) for k in (0, 7))
    common = np.intersect1d(first["object_id"], other["object_id"])
    assert len(common) > 8
    a = first[np.isin(first["object_id"], common)]
    b = other[np.isin(other["object_id"], common)]
    a.sort("object_id")
    b.sort("object_id")
    np.testing.assert_array_equal(a["ra"], b["ra"])
    assert not np.allclose(a["x"], b["x"], atol=0.5)  # another dither and roll


def test_rolls_and_dithers_differ_between_visits(survey):
    headers = [_planes(e["path"])[1] for e in survey.exposures]
    wcs_keys = {(h["CRVAL1"], h["CRVAL2"], h["CD1_1"], h["CRPIX1"]) for h in headers}
    assert len(wcs_keys) == len(headers)
    by_epoch = {}
    for h in headers:
        by_epoch.setdefault(h["MJD"], []).append(h["PA_FPA"])
    for pas in by_epoch.values():
        assert max(pas) - min(pas) < 0.01  # both bands of an epoch share the roll
    rolls = sorted(v[0] for v in by_epoch.values())
    assert min(np.diff(rolls)) > 1.0
    assert len({(e["sn_x"], e["sn_y"]) for e in survey.exposures}) == len(headers)
    assert all(128 - 0.16 * 256 < e["sn_x"] < 128 + 0.16 * 256 for e in survey.exposures)


def test_schedule_epochs_and_light_curve(survey):
    epochs = sorted({e["mjd"] for e in survey.exposures})
    assert epochs[0] == sim.DEFAULT_MJDS[0] < 62450 and len(epochs) == 5
    assert epochs[1:] == pytest.approx(np.linspace(62460, 62560, 4), abs=1e-3)
    assert [e["band"] for e in survey.exposures] == ["Y106", "H158"] * 5
    for e in survey.exposures:
        if e["mjd"] < 62450:
            assert e["sn_flux"] == 0.0 and e["sn_mag"] is None
        else:
            assert e["sn_mag"] == pytest.approx(sim.sn_magnitude(e["band"], e["mjd"]))
            assert e["sn_flux"] == pytest.approx(10 ** (-0.4 * (e["sn_mag"] - e["zp_ab"])))


def test_bazin_light_curves():
    assert sim.sn_magnitude("Y106", 62449.99) == math.inf
    mjd = np.linspace(62450, 62600, 1501)
    mags = np.array([sim.sn_magnitude("Y106", m) for m in mjd])
    assert mags.min() == pytest.approx(22.78, abs=1e-4)
    assert mjd[mags.argmin()] == pytest.approx(62472.4, abs=0.2)
    assert 10 ** (-0.4 * (sim.sn_magnitude("Y106", 62472.0) - 32.6617)) == pytest.approx(
        8963, abs=2
    )
    from snapscope.sim._lightcurve import FITTED, bazin_parameters

    assert bazin_parameters("K213") == FITTED["H158"] and bazin_parameters("R062") == FITTED["Y106"]
    w146 = bazin_parameters("W146")
    assert FITTED["J129"].mpk < w146.mpk < FITTED["H158"].mpk


# ----------------------------------------------------------------------------- photometry


def _forced_flux(path, epsf_path, ra, dec, r=3.0):
    """Masked aperture flux at (ra, dec), annulus background, ePSF aperture correction."""
    from photutils.aperture import (
        ApertureStats,
        CircularAnnulus,
        CircularAperture,
        aperture_photometry,
    )
    from photutils.psf import ImagePSF

    (sci, err, dq), header = _planes(path)
    sci, err = sci.astype(float), err.astype(float)
    x, y = WCS(header).all_world2pix(ra, dec, 0)
    mask = (dq & BAD) != 0
    aperture = CircularAperture((x, y), r)
    stats = ApertureStats(
        sci, CircularAnnulus((x, y), 12.0, 20.0), mask=mask, sigma_clip=SigmaClip(sigma=3.0)
    )
    phot = aperture_photometry(sci, aperture, error=err, mask=mask, method="exact")
    area = aperture.area_overlap(sci, mask=mask, method="exact")
    with _open(epsf_path) as hdul:
        over = hdul[0].header["OVERSAMP"]
        psf = ImagePSF(hdul[0].data.astype(float) * over**2, oversampling=over, x_0=x, y_0=y)
    yy, xx = np.mgrid[: sci.shape[0], : sci.shape[1]]
    model = psf(xx, yy)
    fraction = aperture_photometry(model, aperture, mask=mask, method="exact")["aperture_sum"][0]
    flux = (phot["aperture_sum"][0] - stats.median * area) / fraction
    var = (
        phot["aperture_sum_err"][0] ** 2
        + area**2 * stats.std**2 / stats.sum_aper_area.value * np.pi / 2
    )
    return flux, math.sqrt(var) / fraction


def test_aperture_photometry_recovers_the_sn_flux(survey):
    """Template-subtracted forced photometry with photutils, every epoch and band (no host)."""
    pulls = []
    for band in ("Y106", "H158"):
        rows = [e for e in survey.exposures if e["band"] == band]
        t_flux, t_err = _forced_flux(
            rows[0]["path"], rows[0]["epsf_path"], survey.sn_ra, survey.sn_dec
        )
        assert rows[0]["sn_flux"] == 0.0
        for e in rows[1:]:
            flux, err = _forced_flux(e["path"], e["epsf_path"], survey.sn_ra, survey.sn_dec)
            assert e["sn_flux"] > 5 * err
            pulls.append((flux - t_flux - e["sn_flux"]) / math.hypot(err, t_err))
    pulls = np.array(pulls)
    assert len(pulls) == 8
    assert np.all(np.abs(pulls) < 4), pulls
    assert np.mean(np.abs(pulls)) < 2.0, pulls


# ----------------------------------------------------------------------------- noise and flags


def test_dq_fractions_and_bits(survey):
    first = None
    for e in survey.exposures:
        (sci, err, dq), _ = _planes(e["path"])
        assert 1e-3 < np.mean(dq > 0) < 1e-2
        known = sum(sim.DQ.values())
        assert not np.any(dq & ~np.uint32(known))
        assert 0.5e-3 < np.mean((dq & sim.DQ["HOT"]) > 0) < 1.6e-3
        assert 0 < np.mean((dq & sim.DQ["DEAD"]) > 0) < 5e-4
        assert np.all(sci[(dq & sim.DQ["DEAD"]) > 0] == 0)
        assert np.any(dq & sim.DQ["JUMP_DET"])
        fixed = dq & (sim.DQ["DEAD"] | sim.DQ["HOT"] | sim.DQ["OTHER_BAD_PIXEL"])
        if first is None:
            first = fixed
        np.testing.assert_array_equal(fixed, first)  # detector defects do not move
        assert np.all(err > 8.5) and np.all(np.isfinite(sci))


def test_dq_bit_values_are_roman_datamodels():
    dqflags = pytest.importorskip("roman_datamodels.dqflags")
    for name, value in sim.DQ.items():
        assert int(dqflags.pixel[name]) == value


def _no_defects():
    empty = np.zeros(0, dtype=int)
    return {"dead": (empty, empty), "hot": (empty, empty, np.zeros(0)), "column": (empty,)}


def test_err_is_the_expected_sigma():
    model = np.zeros((256, 256))
    model[:128] = 400.0
    sci, err, dq = _noise.add_noise(
        model, sky=150.0, exptime=300.0, defects=_no_defects(), seed=1, cr_rate=0.0
    )
    assert not dq.any()
    for rows, level in ((slice(0, 128), 550.0), (slice(128, 256), 150.0)):
        assert np.mean(sci[rows]) == pytest.approx(level, abs=0.6)
        assert np.std(sci[rows]) / np.mean(err[rows]) == pytest.approx(1.0, abs=0.02)
        assert np.mean(err[rows]) == pytest.approx(
            math.sqrt(level + 0.015 * 300 + 8.5**2), rel=1e-6
        )


def test_saturation_bad_column_and_cosmic_rays_are_flagged():
    model = np.zeros((64, 64))
    model[10, 20] = 3e5
    defects = _no_defects()
    defects["column"] = (np.array([40]),)
    sci, err, dq = _noise.add_noise(
        model, sky=100.0, exptime=300.0, defects=defects, seed=2, cr_rate=200.0
    )
    saturated = sim.DQ["SATURATED"] | sim.DQ["DO_NOT_USE"]
    assert dq[10, 20] & saturated == saturated and np.sum((dq & sim.DQ["SATURATED"]) > 0) == 1
    assert sci[10, 20] == pytest.approx(1e5 - 0.015 * 300)
    column = sim.DQ["OTHER_BAD_PIXEL"] | sim.DQ["DO_NOT_USE"]
    assert np.all(dq[:, 40] & column == column)
    assert abs(np.median(sci[:, 40])) < 10  # no charge: read noise only
    jumps = (dq & sim.DQ["JUMP_DET"]) > 0
    assert 0.01 < jumps.mean() < 0.5
    clean = ~jumps & (dq == 0)
    assert np.median(sci[jumps]) > np.median(sci[clean]) + 300


def test_densities_of_the_sky_catalogue(survey):
    from snapscope.sim._catalog import CELL, GALAXY_DENSITY, default_star_density

    sky = Table.read(survey.path / "sky_catalog.ecsv")
    manifest = json.loads(survey.manifest_path.read_text())
    assert sky.meta["galaxy_density_per_deg2"] == pytest.approx(GALAXY_DENSITY)
    # Count in a box around the field centre well inside the generated cells.
    from snapscope.sim._catalog import gnomonic

    xi, eta = gnomonic(survey.sn_ra, survey.sn_dec, sky["ra"], sky["dec"])
    half = CELL
    inside = (np.abs(xi) < half) & (np.abs(eta) < half)
    area = (2 * half / 3600) ** 2
    for kind, density in (
        ("galaxy", GALAXY_DENSITY),
        ("star", default_star_density(survey.sn_ra, survey.sn_dec)),
    ):
        n = np.sum(inside & (sky["obj_type"] == kind))
        expected = density * area
        assert abs(n - expected) < 5 * math.sqrt(expected) + 1, (kind, n, expected)
    galaxies = sky[sky["obj_type"] == "galaxy"]
    assert 18 <= galaxies["mag_Y106"].min() and galaxies["mag_Y106"].max() <= 27
    assert np.median(galaxies["mag_Y106"] - galaxies["mag_H158"]) == pytest.approx(0.35, abs=0.05)
    assert manifest["sn"]["lightcurves"]["Y106"]["mpk"] == 22.78


# ----------------------------------------------------------------------------- determinism, re-runs


def test_same_seed_same_bytes_whichever_process(survey, tmp_path):
    e = survey.exposures[3]
    p = e["params"]
    again = sim.make_exposure(
        tmp_path,
        band=p["band"],
        mjd=p["mjd"],
        size=p["size"],
        sca=p["sca"],
        pointing=p["pointing"],
        seed=p["seed"],
        scene_seed=p["scene_seed"],
        host=p["host"],
        sn=p["sn"],
    )
    assert Path(again["path"]).read_bytes() == Path(e["path"]).read_bytes()
    assert Path(again["truth_path"]).read_bytes() == Path(e["truth_path"]).read_bytes()
    other = sim.make_exposure(
        tmp_path / "other",
        band=p["band"],
        mjd=p["mjd"],
        size=p["size"],
        pointing=p["pointing"],
        seed=p["seed"] + 1,
        scene_seed=p["scene_seed"],
        host=False,
    )
    assert not np.array_equal(_planes(other["path"])[0][0], _planes(e["path"])[0][0])


def test_exposure_without_supernova(tmp_path):
    e = sim.make_exposure(tmp_path, size=64, sn=False, host=False, seed=8)
    assert e["sn_flux"] == 0.0 and e["sn_mag"] is None and not e["sn"]
    assert {"path", "band", "mjd", "pointing", "sca", "size", "sn_x", "sn_y", "sn_flux", "sn_mag",
            "zp_ab", "sky", "seed", "ra", "dec"} <= set(e)
    assert (e["ra"], e["dec"]) == (sim.SN_RA, sim.SN_DEC)
    truth = Table.read(e["truth_path"])
    assert sim.SN_ID not in truth["object_id"] and "transient" not in truth["obj_type"]
    with_sn = sim.make_exposure(tmp_path / "sn", size=64, host=False, seed=8)
    (a, _, _), _ = _planes(e["path"])
    (b, _, _), _ = _planes(with_sn["path"])
    x, y = round(e["sn_x"]), round(e["sn_y"])
    assert b[y - 2:y + 3, x - 2:x + 3].sum() - a[y - 2:y + 3, x - 2:x + 3].sum() > 4000


def test_epsf_file_is_the_psf_used(tmp_path):
    e = sim.make_exposure(tmp_path, size=32, seed=1, host=False)
    good = Path(e["epsf_path"]).read_bytes()
    with _open(e["epsf_path"]) as hdul:
        psf, header = hdul[0].data, hdul[0].header
        assert header["OVERSAMP"] == 4 and psf.shape == (512, 512)
        assert psf.sum() == pytest.approx(1.0, rel=1e-5)
        assert np.unravel_index(psf.argmax(), psf.shape) in [(255, 255), (255, 256), (256, 255),
                                                             (256, 256)]
    Path(e["epsf_path"]).write_bytes(b"stale")
    sim.make_exposure(tmp_path, size=32, seed=2, host=False, pointing=7)
    assert Path(e["epsf_path"]).read_bytes() == good


def test_gzip_variant_is_readable_and_identical(hosted, exposure_dir):
    packed = sim.make_exposure(exposure_dir / "gz", size=128, seed=3, mjd=62472.0, gzip=True)
    assert packed["path"].endswith(".fits.gz")
    (a, ha), (b, hb) = _planes(hosted["path"]), _planes(packed["path"])
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert ha == hb
    twice = sim.make_exposure(exposure_dir / "gz2", size=128, seed=3, mjd=62472.0, gzip=True)
    assert Path(twice["path"]).read_bytes() == Path(packed["path"]).read_bytes()
    assert Path(packed["path"]).stat().st_size < Path(hosted["path"]).stat().st_size


def test_host_galaxy_is_drawn(hosted, exposure_dir):
    truth = Table.read(hosted["truth_path"])
    host = truth[truth["object_id"] == 1_000_000_000 + sim.SN_ID]
    assert len(host) == 1 and host["mag_ab"][0] == pytest.approx(22.0)
    offset = math.hypot(host["x"][0] - hosted["sn_x"], host["y"][0] - hosted["sn_y"])
    assert offset * 0.11 == pytest.approx(0.45, abs=0.02)
    common = dict(size=128, seed=3, mjd=62472.0, cr_rate=0.0)
    with_host = _planes(sim.make_exposure(exposure_dir / "host", **common)["path"])[0][0]
    without = _planes(sim.make_exposure(exposure_dir / "bare", host=False, **common)["path"])[0][0]
    x, y = round(hosted["sn_x"]), round(hosted["sn_y"])
    excess = (with_host - without)[y - 30 : y + 31, x - 30 : x + 31].sum()
    assert excess == pytest.approx(host["flux"][0], rel=0.1)


def test_second_survey_run_is_a_no_op(survey, monkeypatch):
    files = sorted(p for p in survey.path.iterdir())
    before = {p: p.stat().st_mtime_ns for p in files}

    def refuse(*args, **kwargs):
        raise AssertionError("an exposure was simulated again")

    monkeypatch.setattr("snapscope.sim._exposure.simulate", refuse)
    again = sim.make_survey(
        survey.path, n_images=10, size=256, seed=11, host=False, progress=False, workers=2
    )
    assert again == survey
    assert {p: p.stat().st_mtime_ns for p in sorted(survey.path.iterdir())} == before
    assert sim.load_survey(survey.path) == survey


def test_changed_parameters_are_remade(tmp_path):
    first = sim.make_survey(tmp_path, n_images=2, size=64, bands=("Y106",), seed=1, progress=False)
    second = sim.make_survey(tmp_path, n_images=2, size=64, bands=("Y106",), seed=2, progress=False)
    assert [e["path"] for e in first.exposures] == [e["path"] for e in second.exposures]
    assert first.exposures[0]["seed"] != second.exposures[0]["seed"]
    assert sim.load_survey(tmp_path) == second


# ----------------------------------------------------------------------------- geometry edge cases


def test_field_straddling_ra_zero(tmp_path):
    e = sim.make_exposure(tmp_path, ra=0.0, dec=0.0, size=256, seed=5)
    (_, _, _), header = _planes(e["path"])
    _assert_wcs_matches_galsim(header)
    ra, _ = WCS(header).all_pix2world([0, 255, 0, 255], [0, 0, 255, 255], 0)
    assert np.any(ra > 359.99) and np.any(ra < 0.01)
    truth = Table.read(e["truth_path"])
    assert np.any(truth["ra"] > 359.9) and np.any(truth["ra"] < 0.1)
    x, y = WCS(header).all_world2pix(truth["ra"], truth["dec"], 0)
    np.testing.assert_allclose(x, truth["x"], atol=2e-3)
    assert 0 < e["sn_x"] < 255 and 0 < e["sn_y"] < 255


@pytest.mark.parametrize(("dec", "size"), [(89.9, 256), (89.995, 512), (-89.9, 128)])
def test_fields_at_the_poles(tmp_path, dec, size):
    e = sim.make_exposure(tmp_path, ra=123.0, dec=dec, size=size, seed=6, cr_rate=0.0)
    (sci, _, _), header = _planes(e["path"])
    _assert_wcs_matches_galsim(header)
    wcs = WCS(header)
    i = np.array([0.0, size - 1, 0, size - 1])
    j = np.array([0.0, 0, size - 1, size - 1])
    back = wcs.all_world2pix(*wcs.all_pix2world(i, j, 0), 0)
    np.testing.assert_allclose(back, [i, j], atol=1e-5)
    sn = tuple(float(v) for v in wcs.all_world2pix(123.0, dec, 0))
    assert sn == pytest.approx((e["sn_x"], e["sn_y"]), abs=1e-4)
    if abs(dec) > 89.99:  # the pole itself is on this image
        px, py = wcs.all_world2pix(0.0, math.copysign(90.0, dec), 0)
        assert 0 < px < size - 1 and 0 < py < size - 1
    assert np.isfinite(sci).all() and np.median(sci) > 100


# ----------------------------------------------------------------------------- OU2024 visits

#: Public OU2024 truth: (ra, dec) -> 1-based SCA pixel (x, y) of real objects in real visits.
OU2024_TRUTH = {
    35198: [
        (7.49956425, -44.8236507, 2265.60047, 1495.21163),
        (7.41136644, -44.7750900, 4258.06659, -235.756030),
    ],
    5934: [
        (7.60518516, -44.8366542, 4542.17527, 42.3413073),
        (7.47956205, -44.8974226, 959.374519, -106.326128),
    ],
}


def test_ou2024_pointings_reproduce_real_visits(tmp_path):
    s = sim.make_survey(
        tmp_path,
        ou2024_pointings=True,
        n_images=3,
        size=128,
        bands=("Y106", "H158"),
        progress=False,
    )
    assert [e["pointing"] for e in s.exposures] == [5934, 505934, 35198]
    assert [e["sca"] for e in s.exposures] == [3, 3, 2]
    assert s.exposures[0]["sn_flux"] == 0.0 and s.exposures[2]["sn_flux"] > 0
    for e in s.exposures:
        (_, _, _), header = _planes(e["path"])
        visit = e["pointing"] % 100_000
        wcs = WCS(header)
        for ra, dec, x, y in OU2024_TRUTH[visit]:
            px, py = (float(v) for v in wcs.all_world2pix(ra, dec, 0))
            assert (px + header["X0_SCA"] + 1, py + header["Y0_SCA"] + 1) == pytest.approx(
                (x, y), abs=0.01
            )
        assert 0 < e["sn_x"] < 127 and 0 < e["sn_y"] < 127
    with pytest.raises(ValueError, match="real visits"):
        sim.make_survey(tmp_path, ou2024_pointings=True, mjds=[62420.0], progress=False)


# ----------------------------------------------------------------------------- CLI, API, errors


def test_cli_simulate(tmp_path, capsys):
    from snapscope.cli import main

    out = tmp_path / "cli"
    args = ["simulate", str(out), "--images", "3", "--size", "64", "--bands", "Y106",
            "--mjds", "62420", "62472", "62500", "--seed", "5", "--no-host", "--gzip",
            "--ra", "150.1", "--dec", "2.2"]
    assert main(args) == 0
    assert "3 exposures" in capsys.readouterr().out
    s = sim.load_survey(out)
    assert [e["mjd"] for e in s.exposures] == [62420.0, 62472.0, 62500.0]
    assert all(
        e["path"].endswith(".fits.gz") and not e["host"] and e["size"] == 64 for e in s.exposures
    )
    assert (s.sn_ra, s.sn_dec) == (150.1, 2.2)
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_module_does_not_import_galsim():
    code = "import sys, snapscope.sim._cli, snapscope.sim; print('galsim' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_band_and_detector_constants_match_galsim():
    bandpasses = galsim.roman.getBandpasses()
    assert sorted(roman.BANDS) == sorted(bandpasses)
    assert list(roman.BANDS) == sorted(bandpasses, key=lambda b: bandpasses[b].effective_wavelength)
    for band in roman.BANDS:
        assert roman.EFFECTIVE_WAVELENGTH[band] == pytest.approx(
            bandpasses[band].effective_wavelength
        )
    assert roman.EXPTIME["W146"] == galsim.roman.exptime
    assert (
        roman.PIXEL_SCALE == galsim.roman.pixel_scale and roman.SCA_PIXELS == galsim.roman.n_pix
    )
    assert _noise.READ_NOISE == galsim.roman.read_noise
    assert _noise.DARK_CURRENT == galsim.roman.dark_current


def test_galsim_position_check_is_restored():
    module = galsim.roman.roman_wcs
    original = module.allowedPos
    with pytest.raises(RuntimeError), _pointing.any_position_allowed():
        assert module.allowedPos(None, None) is True
        raise RuntimeError
    assert module.allowedPos is original


def test_interrupted_write_leaves_no_file(tmp_path):
    target = tmp_path / "x.fits"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half a file")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"band": "Q999"}, "unknown Roman band"),
        ({"size": 0}, "size must be between 1 and 4088"),
        ({"size": 12.5}, "size must be an integer"),
        ({"sca": 19}, "sca must be between 1 and 18"),
        ({"dec": 91.0}, "dec must be between"),
        ({"cr_rate": -1.0}, "cr_rate must be at least 0"),
    ],
)
def test_make_exposure_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sim.make_exposure(tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_make_survey_and_load_survey_errors(tmp_path):
    with pytest.raises(ValueError, match="only 2 exposures"):
        sim.make_survey(tmp_path, n_images=3, mjds=[62420.0], progress=False)
    with pytest.raises(ValueError, match="repeated mjds"):
        sim.make_survey(tmp_path, mjds=[62420.0, 62420.0], progress=False)
    with pytest.raises(FileNotFoundError, match="not a snapscope.sim survey"):
        sim.load_survey(tmp_path)


def test_n_images_spreads_over_bands(tmp_path):
    s = sim.make_survey(tmp_path, n_images=5, size=32, bands=("Y106", "J129"), progress=False)
    assert [e["band"] for e in s.exposures] == ["Y106", "J129", "Y106", "J129", "Y106"]
    assert [e["mjd"] for e in s.exposures] == [62420.0, 62420.0, 62460.0, 62460.0, 62560.0]
