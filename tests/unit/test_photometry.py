"""ap_phot compared with photutils called directly (snappl's recipe), and with injected fluxes."""

import numpy as np
import pytest
from astropy.table import Table
from fitsmaker import make_ou2024_file
from photutils.aperture import ApertureStats, CircularAperture, aperture_photometry
from photutils.background import Background2D

from snapscope.image import OpenUniverse2024FITSImage

SOURCES = [(30.3, 40.7, 5000.0), (70.0, 90.2, 1200.0), (55.5, 20.5, 20000.0)]


@pytest.fixture(scope="module")
def image_and_truth(tmp_path_factory):
    path, truth = make_ou2024_file(tmp_path_factory.mktemp("phot"), shape=(128, 100), sources=SOURCES,
                                   noise=3.0, dq_bits={(90, 70): 2048})
    return path, truth


def _fresh(path):
    return OpenUniverse2024FITSImage(full_filepath=path)


def test_default_ap_phot_equals_snappl_recipe(image_and_truth):
    path, truth = image_and_truth
    coords = Table({"x": [s[0] for s in SOURCES], "y": [s[1] for s in SOURCES]})
    got = _fresh(path).ap_phot(coords, ap_r=4, bgsize=31)
    data = truth["sci"]
    ap = CircularAperture(np.transpose([coords["x"], coords["y"]]), r=4)
    bg = Background2D(data, box_size=31).background
    ref = aperture_photometry(data - bg, ap, method="subpixel", subpixels=5)
    # snapscope's background is photutils' algorithm on the meshes the apertures need: bit for
    # bit against photutils 3.1, within 1e-8 of 3.0 (on Python 3.11); the contract is 1e-6
    np.testing.assert_allclose(got["aperture_sum"], ref["aperture_sum"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(got["max"], ApertureStats(data, ap).max)
    assert {"id", "x_center", "y_center", "aperture_sum", "max"} <= set(got.colnames)


def test_ap_phot_recovers_injected_flux(image_and_truth):
    path, truth = image_and_truth
    got = _fresh(path).ap_phot({"x": [s[0] for s in SOURCES], "y": [s[1] for s in SOURCES]},
                               ap_r=8, method="exact", bgsize=0, error="noise")
    true = np.array([s[2] for s in SOURCES]) + 100.0 * np.pi * 64  # sky is 100 per pixel
    sigma = got["aperture_sum_err"]
    assert np.all(np.abs(got["aperture_sum"] - true) < 4 * sigma + 0.002 * true)
    ap = CircularAperture([(s[0], s[1]) for s in SOURCES], r=8)
    ref = aperture_photometry(truth["sci"], ap, error=truth["err"], method="exact")
    np.testing.assert_allclose(sigma, ref["aperture_sum_err"], rtol=1e-9)


def test_mask_from_flags(image_and_truth):
    path, truth = image_and_truth
    coords = {"x": [70.0], "y": [90.2]}
    im = _fresh(path)
    masked = im.ap_phot(coords, ap_r=3, bgsize=0, mask="flags", method="center")
    plain = im.ap_phot(coords, ap_r=3, bgsize=0, method="center")
    difference = plain["aperture_sum"][0] - masked["aperture_sum"][0]
    assert difference == pytest.approx(truth["sci"][90, 70], rel=1e-5)
    bits = im.ap_phot(coords, ap_r=3, bgsize=0, mask=1, method="center")
    assert bits["aperture_sum"][0] == pytest.approx(plain["aperture_sum"][0])
    with pytest.raises(ValueError, match="mask must be"):
        im.ap_phot(coords, mask="noise")


def test_background_is_computed_once(image_and_truth, monkeypatch):
    path, _ = image_and_truth
    from snapscope.image import _background

    calls = []
    real = _background.BackgroundMesh
    monkeypatch.setattr(_background, "BackgroundMesh", lambda *a: calls.append(a[1:]) or real(*a))
    im = _fresh(path)
    first = im.ap_phot({"x": [30.3], "y": [40.7]}, bgsize=31)
    second = im.ap_phot({"x": [70.0], "y": [90.2]}, bgsize=31)
    assert len(calls) == 1
    assert first["aperture_sum"][0] == im.ap_phot({"x": [30.3], "y": [40.7]}, bgsize=31)["aperture_sum"][0]
    assert second["aperture_sum"][0] != first["aperture_sum"][0]
    im.ap_phot({"x": [30.3], "y": [40.7]}, bgsize=15)
    im.ap_phot({"x": [30.3], "y": [40.7]}, bgsize=15, mask="flags")
    im.ap_phot({"x": [30.3], "y": [40.7]}, bgsize=15, mask="flags")  # a new bool array, same mask
    assert [c[0] for c in calls] == [31, 15, 15] and calls[2][1].sum() == 1


def test_coordinates_need_x_and_y(image_and_truth):
    path, _ = image_and_truth
    with pytest.raises(ValueError, match="coordinates need columns 'x' and 'y'.*\\['ra', 'dec'\\]"):
        _fresh(path).ap_phot(Table({"ra": [1.0], "dec": [2.0]}))


def test_psf_phot_accepts_a_plain_table(image_and_truth):  # snappl: TypeError under numpy 2
    from snapscope.psf import PSF

    path, truth = image_and_truth
    psf = PSF.get_psf_object("gaussian", sigmax=1.2, sigmay=1.2)
    init = Table({"x": [s[0] for s in SOURCES], "y": [s[1] for s in SOURCES],
                  "flux_init": [1000.0] * 3})
    result = _fresh(path).psf_phot(init, psf, fit_shape=(9, 9))
    true = np.array([s[2] for s in SOURCES])
    assert np.all(np.abs(result["flux_fit"] - true) < 5 * result["flux_err"] + 0.01 * true)
    free, resid = _fresh(path).psf_phot(init, psf, forced_phot=False, fit_shape=(9, 9),
                                        return_resid_image=True)
    np.testing.assert_allclose(free["x_fit"], [s[0] for s in SOURCES], atol=0.05)
    np.testing.assert_allclose(free["y_fit"], [s[1] for s in SOURCES], atol=0.05)
    assert resid.shape == truth["sci"].shape
    with pytest.raises(ValueError, match='column "flux_init"'):
        _fresh(path).psf_phot(Table({"x": [1.0], "y": [1.0]}), psf)


def test_aperture_max_equals_aperture_stats():
    import warnings

    from snapscope.image._photometry import aperture_max

    rng = np.random.default_rng(3)
    data = rng.normal(100, 5, (40, 50))
    data[10:13, 10:13] = np.nan  # partly NaN aperture
    data[30, :] = np.inf
    mask = np.zeros(data.shape, bool)
    mask[20:30, 35:45] = True  # one aperture entirely masked
    positions = [(11.0, 11.0), (40.0, 25.0), (0.2, 39.6), (49.4, 0.0), (25.3, 30.0), (12.0, 11.5)]
    ap = CircularAperture(positions, r=3.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ApertureStats warns about the non-finite pixels it masks
        ref = ApertureStats(data, ap, mask=mask).max
    got = aperture_max(data, ap, mask)
    np.testing.assert_array_equal(got, np.asarray(ref, float))
    assert np.isnan(got[1]) and np.isfinite(got).sum() == 5


def _photutils_forced(data, error, mask, x, y, model, fit_shape, bginner, bgouter):
    """PSFPhotometry called directly, positions fixed (what psf_phot(forced_phot=True) runs)."""
    from photutils.background import LocalBackground, MMMBackground
    from photutils.psf import PSFPhotometry

    model = model.copy()
    model.x_0.fixed = model.y_0.fixed = True
    fit = PSFPhotometry(model, fit_shape, local_bkg_estimator=LocalBackground(
        bginner, bgouter, bkg_estimator=MMMBackground()))
    return fit(data, error=error, mask=mask,
               init_params=Table({"x": x, "y": y, "flux_init": np.full(len(x), 1000.0)}))


@pytest.mark.parametrize("with_noise", [True, False])
@pytest.mark.parametrize("fit_shape", [(5, 5), (7, 9)])
def test_forced_psf_phot_equals_photutils_psf_photometry(image_and_truth, with_noise, fit_shape):
    from snapscope.image import Numpy2DImage
    from snapscope.psf import PSF

    path, truth = image_and_truth
    image = _fresh(path)
    data = np.array(image.data, dtype=float)
    data[41, 31] = np.nan  # a non-finite pixel in the first source's box
    flags = np.asarray(image.flags).copy()
    flags[40, 29] = 4  # and a flagged one
    noise = np.asarray(image.noise, dtype=float) if with_noise else None
    subject = Numpy2DImage(data=data, noise=noise, flags=flags)
    psf = PSF.get_psf_object("gaussian", sigmax=1.2, sigmay=1.4)
    # sources, blank sky (flux ~ 0), a box cut by the left and top edges
    x = np.array([s[0] for s in SOURCES] + [12.6, 0.4, 97.8])
    y = np.array([s[1] for s in SOURCES] + [100.3, 64.2, 127.4])
    ours = subject.forced_psf_phot({"x": x, "y": y}, psf, fit_shape=fit_shape, mask="flags")
    # photutils is given the non-finite pixel in its mask too (3.0 fails on one unmasked)
    bad = (flags != 0) | ~np.isfinite(data)
    theirs = _photutils_forced(data, noise, bad, x, y, psf.getPhotutilsPSF(x[0], y[0]),
                               fit_shape, 15, 25)
    np.testing.assert_allclose(ours["local_bkg"], theirs["local_bkg"], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours["n_pixels_fit"], theirs["n_pixels_fit"])
    np.testing.assert_allclose(ours["flux_fit"], theirs["flux_fit"], rtol=0,
                               atol=1e-6 * float(np.min(theirs["flux_err"])))
    np.testing.assert_allclose(ours["flux_err"], theirs["flux_err"], rtol=1e-6)
    # and psf_phot (the Image API's photutils path) agrees with both
    init = Table({"x": x, "y": y, "flux_init": np.full(len(x), 1000.0)})
    api = subject.psf_phot(init, psf, fit_shape=fit_shape, mask=bad)
    np.testing.assert_allclose(ours["flux_fit"], api["flux_fit"], rtol=0,
                               atol=1e-6 * float(np.min(api["flux_err"])))


def test_forced_psf_phot_recovers_injected_flux_and_leaves_an_off_image_position(image_and_truth):
    from snapscope.psf import PSF

    path, _ = image_and_truth
    psf = PSF.get_psf_object("gaussian", sigmax=1.2, sigmay=1.2)
    x = [s[0] for s in SOURCES] + [-40.0]
    y = [s[1] for s in SOURCES] + [10.0]
    result = _fresh(path).forced_psf_phot({"x": x, "y": y}, psf, fit_shape=(9, 9))
    true = np.array([s[2] for s in SOURCES])
    assert np.all(np.abs(result["flux_fit"][:3] - true) < 5 * result["flux_err"][:3] + 0.01 * true)
    assert np.isnan(result["flux_fit"][3]) and result["n_pixels_fit"][3] == 0


def test_psf_models_with_the_same_data_share_one_spline():
    """Batch work asks the PSF for a new model per image; equal data → the first model (whose
    spline is already fitted), different data or oversampling → a model of its own."""
    from photutils.psf import ImagePSF

    from snapscope.image._photometry import _shared_model

    rng = np.random.default_rng(4)
    data = rng.random((41, 41))
    first = _shared_model(ImagePSF(data.copy(), oversampling=4))
    assert _shared_model(ImagePSF(data.copy(), oversampling=4, x_0=3.0)) is first
    assert _shared_model(ImagePSF(data.copy(), oversampling=2)) is not first
    other = data.copy()
    other[20, 20] += 1e-12
    assert _shared_model(ImagePSF(other, oversampling=4)) is not first
