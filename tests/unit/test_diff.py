"""snapscope.diff and batch.difference_photometry: references, PSF-matched differences and a
host-free light curve, checked against reproject, astropy and photutils called here and against
the simulator's injected fluxes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.convolution import convolve
from hostedsurvey import EXPLOSION, HOSTS, SN_MJDS
from photutils.aperture import CircularAperture, aperture_photometry

from snapscope import batch, diff
from snapscope.image import OpenUniverse2024FITSImage
from snapscope.sim import sn_magnitude
from snapscope.sim._lightcurve import bazin_parameters

reproject = pytest.importorskip("reproject")

@pytest.fixture(scope="module")
def psfs(hosted_psfs):
    return hosted_psfs


@pytest.fixture
def images(hosted_survey):
    """Fresh Image objects of the survey, in schedule (MJD, then band) order."""
    return [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in hosted_survey.exposures]


def _sn(survey, k):
    return survey.exposures[0]["hosted"][k]


def _truth(survey):
    """(file path, hosted index) → injected SN flux (e⁻)."""
    return {(e["path"], k): h["flux"] for e in survey.exposures for k, h in enumerate(e["hosted"])}


# ------------------------------------------------------------------ simulator
def test_hosted_supernovae_follow_the_light_curve_on_their_hosts(hosted_survey):
    manifest_sne = hosted_survey.exposures[0]["hosted"]
    assert [(h["host_mag"], h["host_offset"]) for h in manifest_sne] == list(HOSTS)
    for e in hosted_survey.exposures:
        mag = sn_magnitude(e["band"], e["mjd"])
        for h in e["hosted"]:
            if math.isinf(mag):
                assert h["flux"] == 0 and h["mag"] is None
            else:
                assert h["mag"] == pytest.approx(mag)
                assert -2.5 * math.log10(h["flux"]) + e["zp_ab"] == pytest.approx(mag)


def test_hosted_supernovae_and_hosts_are_in_the_truth_tables(hosted_survey):
    from astropy.table import Table

    e = hosted_survey.exposures[-1]
    truth = Table.read(e["truth_path"])
    for h in e["hosted"]:
        sn = truth[truth["object_id"] == h["id"]]
        host = truth[truth["object_id"] == 1_000_000_000 + h["id"]]
        assert len(sn) == 1 and sn["obj_type"][0] == "transient"
        assert (sn["x"][0], sn["y"][0], sn["flux"][0]) == pytest.approx((h["x"], h["y"],
                                                                          h["flux"]))
        assert len(host) == 1 and host["mag_ab"][0] == pytest.approx(
            h["host_mag"] - 0.35 * (e["band"] == "H158"))
        separation = math.hypot((host["ra"][0] - h["ra"]) * math.cos(math.radians(h["dec"])),
                                host["dec"][0] - h["dec"]) * 3600
        assert separation == pytest.approx(h["host_offset"], abs=1e-3)


def test_hosted_pairs_are_checked():
    from snapscope.sim import make_exposure

    with pytest.raises(ValueError, match="offset of 0–3 arcsec"):
        make_exposure("unused", hosted=[(19.0, 5.0)])
    with pytest.raises(ValueError, match="pairs"):
        make_exposure("unused", hosted=[19.0])


# --------------------------------------------------------------------- kernel
def test_kernel_turns_one_psf_into_the_other():
    from snapscope.psf import PSF

    sharp = PSF.get_psf_object("gaussian", sigmax=1.0, sigmay=0.9, stamp_size=41).get_stamp(0.3, 0.2)
    broad = PSF.get_psf_object("gaussian", sigmax=1.6, sigmay=1.3, theta=30,
                               stamp_size=41).get_stamp(0.3, 0.2)
    kernel, residual = diff.match_kernel(sharp, broad, half=5, box=12)
    assert kernel.shape == (11, 11) and kernel.sum() == pytest.approx(1.0, abs=1e-12)
    box = np.s_[20 - 12 : 20 + 13, 20 - 12 : 20 + 13]
    matched = convolve(np.pad(sharp[box], 5), kernel, normalize_kernel=False, boundary="fill")
    target = np.pad(broad[box], 5)
    assert np.linalg.norm(matched - target) / np.linalg.norm(target) == pytest.approx(residual,
                                                                                      rel=1e-6)
    assert residual < 2e-3
    assert diff.sharpness(sharp) > diff.sharpness(broad)


# ------------------------------------------------------------------ reference
def test_reference_is_the_weighted_mean_of_the_resampled_stamps(hosted_survey, images, psfs):
    """Recompute the coadd here with reproject_adaptive and numpy, input by input."""
    h = _sn(hosted_survey, 1)
    ref = diff.build_reference(images, (h["ra"], h["dec"]), psfs, band="H158", before=EXPLOSION)
    used = [im for im in images if im.band == "H158" and im.mjd < EXPLOSION]
    assert ref.inputs == [str(im.full_filepath) for im in used] and len(used) == 4
    grid = ref.image.get_wcs().get_astropy_wcs()
    side = ref.image.data.shape[0]
    assert side == diff.reference_size(65, 5)
    zp0 = used[0].get_zeropoint()
    sums, weights, variances = [], [], []
    for i, im in enumerate(used):
        cut = im.get_ra_dec_cutout(h["ra"], h["dec"], side, mode="partial")
        scale = 10 ** (0.4 * (zp0 - im.get_zeropoint()))
        bad = (cut.flags != 0).astype(float)
        data, noise = (np.asarray(v, dtype=float) for v in (cut.data, cut.noise))
        planes = np.stack([np.where(bad > 0, 0, data) * scale,
                           np.where(bad > 0, 0, noise) ** 2 * scale**2, bad, np.ones_like(bad)])
        if i:  # the first input's grid is the reference's
            planes = reproject.reproject_adaptive((planes, cut.get_wcs().get_astropy_wcs()), grid,
                                                  shape_out=(side, side), conserve_flux=True,
                                                  return_footprint=False, roundtrip_coords=False)
            planes[1] *= planes[3]  # a variance takes the pixel-area factor squared
        good = (planes[2] == 0) & np.isfinite(planes[0])
        w = 1 / np.median(planes[1][good])
        weights.append(np.where(good, w, 0.0))
        sums.append(np.where(good, planes[0], 0.0))
        variances.append(np.where(good, planes[1], 0.0))
    weights, sums, variances = map(np.array, (weights, sums, variances))
    total = weights.sum(axis=0)
    covered = total > 0
    expected = (weights * sums).sum(axis=0)[covered] / total[covered]
    np.testing.assert_allclose(ref.image.data[covered], expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ref.image.noise[covered] ** 2,
                               (weights**2 * variances).sum(axis=0)[covered] / total[covered] ** 2,
                               rtol=1e-12)
    assert np.all(ref.image.flags[~covered] == diff.DO_NOT_USE)
    assert np.all(ref.image.flags[covered] == 0)
    # the central region a science stamp needs is covered at any roll
    c = side // 2
    yy, xx = np.indices(ref.image.data.shape)
    assert covered[np.hypot(xx - c, yy - c) < (65 + 10) / math.sqrt(2) + 3].all()
    assert ref.psf.sum() == pytest.approx(1.0, abs=0.02)
    assert ref.image.zeropoint == zp0 and ref.band == "H158"


# ----------------------------------------------------------------- difference
def test_difference_matches_reproject_and_astropy_convolution(hosted_survey, images, psfs):
    """The difference stamp and its aperture flux, recomputed here from the cutouts."""
    h = _sn(hosted_survey, 0)
    ra, dec = h["ra"], h["dec"]
    ref = diff.build_reference(images, (ra, dec), psfs, band="Y106", before=EXPLOSION)
    science = [im for im in images if im.band == "Y106" and im.mjd > EXPLOSION]
    table = batch.difference_photometry(science, (ra, dec), ref, psf=psfs, progress=False)
    checked = 0
    for im, row in zip(science, table[table["method"] == "aperture"], strict=True):
        d = diff.difference(im, ref, psfs)
        cut = im.get_ra_dec_cutout(ra, dec, 75, mode="partial")
        bad = cut.flags != 0
        on = reproject.reproject_adaptive(
            (np.stack([ref.image.data, ref.psf]), ref.image.get_wcs().get_astropy_wcs()),
            cut.get_wcs().get_astropy_wcs(), shape_out=(75, 75), conserve_flux=True,
            return_footprint=False, roundtrip_coords=False)
        scale = 10 ** (0.4 * (im.get_zeropoint() - ref.image.zeropoint))
        assert d.scale == pytest.approx(scale, rel=1e-12)
        sci = np.where(bad, 0.0, np.asarray(cut.data, dtype=float))
        if d.convolved == "science":
            full = convolve(sci, d.kernel, normalize_kernel=False, boundary="fill") - on[0] * scale
        else:
            full = sci - convolve(on[0] * scale, d.kernel, normalize_kernel=False, boundary="fill")
        independent = full[5:-5, 5:-5] - d.background
        # pixels no bad pixel reaches through the kernel are equal to the last bits
        near_bad = convolve(bad.astype(float), np.ones((11, 11)), normalize_kernel=False,
                            boundary="fill")[5:-5, 5:-5] > 0
        np.testing.assert_allclose(d.image.data[~near_bad], independent[~near_bad], rtol=1e-9,
                                   atol=1e-7)
        assert d.image.get_wcs().world_to_pixel(ra, dec) == pytest.approx((d.x, d.y), abs=1e-9)
        assert (row["x"], row["y"]) == (d.x, d.y)
        # the two sides shown next to the difference subtract to it, on the same grid
        good = d.image.flags == 0
        sides = d.science_stamp.data - d.reference_stamp.data - d.background
        np.testing.assert_allclose(sides[good], d.image.data[good], rtol=1e-12, atol=1e-9)
        if d.convolved == "reference":  # the science side is the science cutout itself
            inner = np.asarray(cut.data, dtype=float)[5:-5, 5:-5]
            shown = np.isfinite(d.science_stamp.data)
            np.testing.assert_array_equal(d.science_stamp.data[shown], inner[shown])
            assert not shown[~bad[5:-5, 5:-5]].size or shown[~bad[5:-5, 5:-5]].all()
        aperture = CircularAperture((d.x, d.y), r=3.0)
        if aperture.to_mask(method="exact").get_values(near_bad.astype(float)).any():
            continue
        ap = aperture_photometry(independent, aperture, method="exact")["aperture_sum"][0]
        fraction = aperture_photometry(d.psf, aperture, method="exact")["aperture_sum"][0]
        assert row["ap_corr"] == pytest.approx(fraction, rel=1e-12)
        assert row["flux"] * row["ap_corr"] == pytest.approx(ap, rel=1e-9, abs=1e-6)
        checked += 1
    assert checked >= 4


def test_flagged_science_pixels_keep_their_bits_and_flag_what_the_kernel_carries(
        hosted_survey, images, psfs):
    """A flagged pixel 4 px from the SN, in a copy of a science cutout as a Numpy2DImage."""
    from snapscope.image import Numpy2DImage

    h = _sn(hosted_survey, 2)
    ref = diff.build_reference(images, (h["ra"], h["dec"]), psfs, band="Y106", before=EXPLOSION)
    im = images[-2]
    cut = im.get_ra_dec_cutout(h["ra"], h["dec"], 201)
    flags = np.zeros(cut.flags.shape, dtype=np.int64)
    x, y = (float(v) for v in cut.get_wcs().world_to_pixel(h["ra"], h["dec"]))
    bx, by = math.floor(x + 0.5) + 4, math.floor(y + 0.5)
    flags[by, bx] = 4  # roman_datamodels JUMP_DET
    data = np.array(cut.data, dtype=float)
    data[by, bx] = 1e6  # a cosmic ray: must not leak into the difference
    science = Numpy2DImage(data=data, noise=np.array(cut.noise, dtype=float), flags=flags,
                           wcs=cut.get_wcs(), band=im.band, mjd=im.mjd,
                           zeropoint=im.get_zeropoint())
    d = diff.difference(science, ref, lambda _: psfs["Y106"])
    sx, sy = bx - (math.floor(x + 0.5) - 32), by - (math.floor(y + 0.5) - 32)
    assert d.image.flags[sy, sx] == 4
    bad = np.zeros((75, 75))
    bad[sy + 5, sx + 5] = 1.0
    kernel = d.kernel if d.convolved == "science" else np.ones((1, 1))
    carried = convolve(bad, np.abs(kernel), normalize_kernel=False, boundary="fill")[5:-5, 5:-5]
    spread = carried > 0.02
    spread[sy, sx] = False
    assert np.all(d.image.flags[spread] == diff.DO_NOT_USE)
    assert np.count_nonzero(d.image.flags) == np.count_nonzero(spread) + 1
    assert np.abs(d.image.data[d.image.flags == 0]).max() < 1e4


def test_differences_run_on_batch_threads_like_in_the_calling_thread(hosted_survey, images,
                                                                      psfs):
    h = _sn(hosted_survey, 2)
    refs = {b: diff.build_reference(images, (h["ra"], h["dec"]), psfs, band=b, before=EXPLOSION,
                                    workers=2)
            for b in ("Y106", "H158")}
    serial = diff.differences(images[8:14], refs, psfs, progress=False)
    threaded = diff.differences(images[8:14], refs, psfs, workers=2, progress=False)
    for a, b in zip(serial, threaded, strict=True):
        assert a.science == b.science and a.convolved == b.convolved
        np.testing.assert_array_equal(a.image.data, b.image.data)
        np.testing.assert_array_equal(a.image.flags, b.image.flags)


def test_difference_stamps_written_as_fits_read_back_plane_by_plane(hosted_survey, images, psfs,
                                                                    tmp_path):
    from astropy.io import fits

    h = _sn(hosted_survey, 1)
    ref = diff.build_reference(images, (h["ra"], h["dec"]), psfs, band="Y106", before=EXPLOSION)
    science = [im for im in images if im.band == "Y106" and im.mjd > EXPLOSION][:3]
    ds = diff.differences(science, ref, psfs, progress=False)
    path = diff.write_differences(tmp_path / "d.fits", science, [ds[0], None, ds[2]])
    with fits.open(path) as hdul:
        assert hdul[0].header["NCUTOUT"] == 2 and hdul[0].header["CUTSIZE"] == 65
        assert hdul[0].header["RA_POS"] == pytest.approx(h["ra"], abs=1e-9)
        for ver, (im, d) in enumerate([(science[0], ds[0]), (science[2], ds[2])], start=1):
            for name, plane in (("SCI", d.science_stamp.data), ("REF", d.reference_stamp.data),
                                ("DIFF", d.image.data), ("DIFFERR", d.image.noise),
                                ("DQ", d.image.flags)):
                np.testing.assert_array_equal(hdul[name, ver].data, plane)
            assert hdul["DIFF", ver].header["MJD-OBS"] == im.mjd
        assert list(hdul["INDEX"].data["MJD"]) == [science[0].mjd, science[2].mjd]
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        diff.write_differences(path, science[:1], ds[:1])
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="3 images but 2 differences"):
        diff.write_differences(tmp_path / "e.fits", science, ds[:2])


def test_difference_psf_model_fits_its_own_plane_exactly(hosted_survey, images, psfs):
    """``psf_phot`` with the difference's PSF model on 1000 × that PSF gives 1000."""
    from astropy.table import Table

    from snapscope.image import Numpy2DImage

    h = _sn(hosted_survey, 3)
    ref = diff.build_reference(images, (h["ra"], h["dec"]), psfs, band="H158", before=EXPLOSION)
    d = diff.difference(images[-1], ref, psfs)
    assert d.psf.sum() == pytest.approx(1.0, abs=0.03)
    source = Numpy2DImage(data=1000.0 * d.psf, noise=np.ones_like(d.psf))
    fit = source.psf_phot(Table({"x": [d.x], "y": [d.y], "flux_init": [500.0]}),
                          d.photutils_psf(), bginner=15, bgouter=25)
    assert fit["flux_fit"][0] == pytest.approx(1000.0, rel=1e-3)


# -------------------------------------------------------- truth: hosted SNe
@pytest.fixture(scope="module")
def hosted_tables(hosted_survey, psfs):
    """Difference photometry of each hosted SN over every exposure (read-only)."""
    images = [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in hosted_survey.exposures]
    return [batch.difference_photometry(images, (h["ra"], h["dec"]), psf=psfs, before=EXPLOSION,
                                        progress=False)
            for h in hosted_survey.exposures[0]["hosted"]]


def test_difference_photometry_recovers_the_injected_light_curves(hosted_survey, hosted_tables):
    """Pulls against the injected fluxes on the four hosted SNe, both bands, both methods.

    The measured peak magnitude is the injected light curve scaled to the measured fluxes
    (its weighted amplitude over the epochs of all four SNe) at its peak.
    """
    truth = _truth(hosted_survey)
    for table in hosted_tables:
        assert len(table) == 2 * len(hosted_survey) and not table.meta["skipped"]
        assert set(table["convolved"]) <= {"science", "reference"}
    for method in ("aperture", "psf"):
        pulls = []
        for band in ("Y106", "H158"):
            num = den = 0.0
            for k, table in enumerate(hosted_tables):
                rows = table[(table["method"] == method) & (table["band"] == band)
                             & (table["mjd"] > EXPLOSION)]
                true = np.array([truth[(p, k)] for p in rows["path"]])
                pulls += list((rows["flux"] - true) / rows["flux_err"])
                num += np.sum(rows["flux"] * true / rows["flux_err"] ** 2)
                den += np.sum(true**2 / rows["flux_err"] ** 2)
            injected = bazin_parameters(band).mpk
            measured = injected - 2.5 * math.log10(num / den)
            assert measured == pytest.approx(injected, abs=0.05), (method, band)
        pulls = np.array(pulls)
        assert len(pulls) == 2 * len(HOSTS) * len(SN_MJDS)
        assert abs(pulls.mean()) < 0.3, (method, pulls)
        assert 0.7 < pulls.std() < 1.4, (method, pulls)


def test_direct_photometry_of_the_same_supernovae_is_biased_by_the_hosts(hosted_survey, images,
                                                                         psfs):
    truth = _truth(hosted_survey)
    hosted = hosted_survey.exposures[0]["hosted"]
    direct = batch.forced_photometry(images, [(h["ra"], h["dec"]) for h in hosted], psf=psfs,
                                     progress=False)
    for method in ("aperture", "psf"):
        rows = direct[direct["method"] == method]
        true = np.array([truth[(p, k)] for p, k in zip(rows["path"], rows["position"],
                                                       strict=True)])
        pulls = (rows["flux"] - true) / rows["flux_err"]
        assert np.median(pulls) > 10, (method, pulls)  # the host's light is measured too


def test_non_detections_get_upper_limits(hosted_tables):
    table = hosted_tables[3]
    quiet = table["snr"] < 3
    assert quiet.any() and (~quiet).any()
    assert np.all(np.isnan(table["upper_limit"][~quiet]))
    expected = table["zeropoint"][quiet] - 2.5 * np.log10(5 * table["flux_err"][quiet])
    np.testing.assert_allclose(table["upper_limit"][quiet], expected, rtol=1e-12)
    np.testing.assert_allclose(table["snr"], table["flux"] / table["flux_err"], rtol=1e-12)
    assert np.all(table["mjd"][quiet & (table["method"] == "psf")] < EXPLOSION + 10)


# ------------------------------------------------------------------ bad input
def test_bad_input_gets_clear_errors(hosted_survey, images, psfs):
    h = _sn(hosted_survey, 0)
    here = (h["ra"], h["dec"])
    with pytest.raises(ValueError, match="no images given"):
        diff.build_reference([], here, psfs)
    with pytest.raises(ValueError, match="no images given"):
        batch.difference_photometry([], here, psf=psfs, before=EXPLOSION)
    far = (h["ra"] + 0.5, h["dec"])
    with pytest.raises(ValueError, match=rf"\({far[0]:.6f}, {far[1]:.6f}\) is on none of the"):
        batch.difference_photometry(images, far, psf=psfs, before=EXPLOSION, progress=False)
    with pytest.raises(ValueError, match="no image in band 'K213'"):
        diff.build_reference(images, here, psfs, band="K213")
    with pytest.raises(ValueError, match="span bands"):
        diff.build_reference(images, here, psfs)
    with pytest.raises(ValueError, match="no Y106 image before MJD 62000"):
        diff.build_reference(images, here, psfs, band="Y106", before=62000)
    ref = diff.build_reference(images, here, psfs, band="Y106", before=EXPLOSION)
    with pytest.raises(ValueError, match="no reference for band 'H158'"):
        batch.difference_photometry(images, here, ref, psf=psfs, progress=False)
    with pytest.raises(ValueError, match="no reference for band 'H158'"):
        diff.difference(images[1], ref, psfs)
    with pytest.raises(ValueError, match="differs from the reference"):
        batch.difference_photometry(images[::2], far, ref, psf=psfs, progress=False)
    with pytest.raises(ValueError, match="give reference=, or before="):
        batch.difference_photometry(images, here, psf=psfs)
    with pytest.raises(TypeError, match="unknown photometry parameter"):
        batch.difference_photometry(images, here, ref, psf=psfs, aperture=3)
    with pytest.raises(ValueError, match="size must be a positive odd"):
        diff.difference(images[0], ref, psfs, size=64)
    with pytest.raises(ValueError, match=rf"\({far[0]:.6f}, {far[1]:.6f}\) is off "):
        diff.difference(images[0], diff.Reference(ref.image, ref.psf, far[0], far[1], [],
                                                  ref.weights), psfs)
