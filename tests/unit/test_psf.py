"""snapscope.psf: stamps (normalisation, centring, shape) checked against astropy and photutils."""

import math

import numpy as np
import pytest
from astropy.convolution import discretize_model
from astropy.io import fits
from astropy.modeling.models import Gaussian2D
from astropy.table import Table
from photutils.centroids import centroid_com
from photutils.psf import ImagePSF, PSFPhotometry

from snapscope._psf._gaussian import pixel_integrated_gaussian
from snapscope.psf import PSF, GaussianPSF


def gaussian_density(sigmax, sigmay, theta_deg, x_mean=0.0, y_mean=0.0, flux=1.0):
    """astropy Gaussian2D with unit integral (times flux)."""
    return Gaussian2D(
        amplitude=flux / (2 * np.pi * sigmax * sigmay),
        x_mean=x_mean,
        y_mean=y_mean,
        x_stddev=sigmax,
        y_stddev=sigmay,
        theta=math.radians(theta_deg),
    )


def oversampled_optical_gaussian(sigma, n, side):
    """A round Gaussian PSF sampled n times per image pixel: the flux of each sub-pixel."""
    offsets = np.arange(side) - (side - 1) / 2
    return pixel_integrated_gaussian(offsets, offsets, sigma * n, sigma * n)


# --------------------------------------------------------------------------- construction


def test_get_psf_object_unknown_lists_known_names():
    with pytest.raises(ValueError, match=r"Unknown PSF class 'nope'; known: .*gaussian"):
        PSF.get_psf_object("nope")


def test_get_psf_object_snappl_only_class():
    with pytest.raises(ValueError, match="'STPSF' is not available in snapscope"):
        PSF.get_psf_object("STPSF")


def test_direct_construction_raises():
    with pytest.raises(RuntimeError, match="call PSF.get_psf_object"):
        GaussianPSF(sigmax=2.0)


def test_unknown_keyword_raises():
    with pytest.raises(TypeError, match="sigma_typo"):
        PSF.get_psf_object("gaussian", sigma_typo=2.0)


def test_base_arguments_are_kept():
    psf = PSF.get_psf_object("gaussian", x=10.25, y=3, band="Y106", sca=4, observation_id="17")
    assert (psf.x, psf.y, psf.band, psf.sca, psf.observation_id) == (10.25, 3.0, "Y106", 4, "17")


@pytest.mark.parametrize(
    ("kwargs", "size"),
    [({}, 23), ({"sigmax": 2.0, "sigmay": 0.5}, 47), ({"stamp_size": 7}, 7)],
)
def test_gaussian_stamp_size(kwargs, size):
    psf = PSF.get_psf_object("gaussian", **kwargs)
    assert psf.stamp_size == psf.clip_size == size
    assert psf.get_stamp(5.0, 5.0).shape == (size, size)


@pytest.mark.parametrize("bad", [8, 0, -3, 5.0])
def test_stamp_size_must_be_positive_odd_int(bad):
    with pytest.raises(ValueError, match="stamp_size must be a positive odd integer"):
        PSF.get_psf_object("gaussian", stamp_size=bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_gaussian_sigma_must_be_positive(bad):
    with pytest.raises(ValueError, match="sigmax must be a positive"):
        PSF.get_psf_object("gaussian", sigmax=bad)


# ------------------------------------------------------------------------------ Gaussian


@pytest.mark.parametrize(
    ("sigmax", "sigmay", "theta"),
    [(1.3, 0.7, 0.0), (1.3, 0.7, 90.0), (1.3, 0.7, 30.0), (0.4, 0.3, -50.0)],
)
def test_gaussian_matches_astropy_integration(sigmax, sigmay, theta):
    """Against astropy's Gaussian2D integrated over each pixel with scipy dblquad (slow, so a
    5×5 stamp)."""
    psf = PSF.get_psf_object("gaussian", sigmax=sigmax, sigmay=sigmay, theta=theta, stamp_size=5)
    x, y = 20.3, 41.85  # PSF centre 0.3, -0.15 px from the stamp centre (20, 42)
    stamp = psf.get_stamp(x, y)
    model = gaussian_density(sigmax, sigmay, theta, x_mean=2 + 0.3, y_mean=2 - 0.15)
    expected = discretize_model(model, (0, 5), (0, 5), mode="integrate")
    np.testing.assert_allclose(stamp, expected, rtol=0, atol=1e-8)


@pytest.mark.parametrize("theta", [0.0, 25.0])
@pytest.mark.parametrize("flux", [1.0, 1234.5])
def test_gaussian_stamp_sums_to_flux(theta, flux):
    psf = PSF.get_psf_object("gaussian", sigmax=1.5, sigmay=1.1, theta=theta)
    assert psf.get_stamp(100.37, 7.52, flux=flux).sum() == pytest.approx(flux, rel=1e-9)


@pytest.mark.parametrize(
    ("x", "y", "x0", "y0", "offset"),
    [
        (111.0, 113.0, None, None, (0.0, 0.0)),
        (111.25, 113.0, None, None, (0.25, 0.0)),
        (111.5, 113.5, None, None, (-0.5, -0.5)),  # floor(v + 0.5): centre pixel (112, 114)
        (111.5, 113.5, 111, 113, (0.5, 0.5)),
        (111.25, 113.0, 110, 114, (1.25, -1.0)),  # snappl's worked example
        (111.0, 113.0, 112.0, 114.0, (-1.0, -1.0)),  # integral floats are accepted
    ],
)
def test_stamp_centre_at_requested_offset(x, y, x0, y0, offset):
    psf = PSF.get_psf_object("gaussian", sigmax=1.2, sigmay=1.2, stamp_size=41)
    stamp = psf.get_stamp(x, y, x0=x0, y0=y0)
    cx, cy = centroid_com(stamp)
    assert (cx - 20, cy - 20) == pytest.approx(offset, abs=1e-6)


def test_non_integer_x0_raises():
    psf = PSF.get_psf_object("gaussian")
    with pytest.raises(TypeError, match="x0 must be an integer pixel index"):
        psf.get_stamp(10.0, 10.0, x0=10.5)


def test_default_position_from_constructor():
    psf = PSF.get_psf_object("gaussian", x=50.3, y=20.9)
    np.testing.assert_array_equal(psf.get_stamp(), psf.get_stamp(50.3, 20.9))


def test_injected_stamp_centroid_in_image_coordinates():
    psf = PSF.get_psf_object("gaussian", sigmax=1.0, sigmay=1.0)
    image = np.zeros((64, 64))
    x, y = 30.7, 25.2
    h = psf.stamp_size // 2
    x0, y0 = math.floor(x + 0.5), math.floor(y + 0.5)
    image[y0 - h : y0 + h + 1, x0 - h : x0 + h + 1] += psf.get_stamp(x, y, flux=10.0)
    assert tuple(centroid_com(image)) == pytest.approx((x, y), abs=1e-6)


def test_varying_gaussian_widths_follow_position():
    psf = PSF.get_psf_object(
        "varying_gaussian", sca_size=200, base_sigma_x=1.0, base_sigma_y=1.5, linear_coefficient=0.4
    )

    def sigmas(stamp):
        yy, xx = np.indices(stamp.shape)
        c = stamp.shape[0] // 2
        # the variance of a pixel-integrated Gaussian is sigma² + 1/12
        return (
            math.sqrt((stamp * (xx - c) ** 2).sum() - 1 / 12),
            math.sqrt((stamp * (yy - c) ** 2).sum() - 1 / 12),
        )

    assert sigmas(psf.get_stamp()) == pytest.approx((1.0, 1.5), abs=1e-4)  # detector centre
    assert sigmas(psf.get_stamp(200.0, 0.0)) == pytest.approx((1.2, 1.3), abs=1e-4)
    assert psf.get_stamp(200.0, 0.0).sum() == pytest.approx(1.0, abs=1e-9)
    assert (psf.sigmax, psf.sigmay) == (1.0, 1.5)  # evaluating a stamp changes nothing


def test_varying_gaussian_negative_width_raises():
    psf = PSF.get_psf_object("varying_gaussian", sca_size=10, linear_coefficient=-30.0)
    with pytest.raises(ValueError, match="sigma_x at this x"):
        psf.get_stamp(10.0, 5.0)


# ------------------------------------------------------------------------ image PSFs


@pytest.mark.parametrize("n", [1, 3, 4, 5])
def test_oversampled_image_psf_matches_gaussian(n):
    sigma = 1.6
    data = oversampled_optical_gaussian(sigma, n, side=25 * n + (n + 1) % 2)
    psf = PSF.get_psf_object("OversampledImagePSF", data=data, oversample_factor=n)
    reference = PSF.get_psf_object(
        "gaussian", sigmax=sigma, sigmay=sigma, stamp_size=psf.stamp_size
    )
    for x, y in [(10.0, 20.0), (10.3, 19.8), (10.5, 20.5)]:
        stamp = psf.get_stamp(x, y)
        np.testing.assert_allclose(stamp, reference.get_stamp(x, y), rtol=0, atol=2e-3 / n)
        assert stamp.sum() == pytest.approx(1.0, abs=2e-3)


def effective_gaussian(sigma, n, side):
    """An ePSF (pixel response included) of a round Gaussian sampled n times per pixel on a
    side × side array, centred on the array centre and summing to 1 (as the simulator's
    epsf files)."""
    offsets = (np.arange(side) - (side - 1) / 2) / n
    return pixel_integrated_gaussian(offsets, offsets, sigma, sigma) / n**2


def test_oversampled_image_psf_from_epsf_file(tmp_path):
    """The simulator writes epsf_{band}_{sca}.fits: an even-sized ePSF with OVERSAMP=4."""
    sigma, n = 1.3, 4
    path = tmp_path / "epsf_Y106_1.fits"
    fits.PrimaryHDU(effective_gaussian(sigma, n, 60), header=fits.Header({"OVERSAMP": n})).writeto(
        path
    )
    psf = PSF.get_psf_object("OversampledImagePSF", psffile=path)
    assert psf.epsf and psf.oversample_factor == 4 and psf.stamp_size == 15
    reference = PSF.get_psf_object("gaussian", sigmax=sigma, sigmay=sigma, stamp_size=15)
    for x, y in [(7.0, 7.0), (7.3, 6.6), (7.5, 7.5)]:
        np.testing.assert_allclose(psf.get_stamp(x, y), reference.get_stamp(x, y), atol=2e-3)


def test_oversampled_image_psf_epsf_array():
    sigma, n = 1.3, 5
    epsf = effective_gaussian(sigma, n, 75)
    psf = PSF.get_psf_object("OversampledImagePSF", data=epsf, oversample_factor=n, epsf=True)
    reference = PSF.get_psf_object("gaussian", sigmax=sigma, sigmay=sigma, stamp_size=15)
    np.testing.assert_allclose(psf.get_stamp(7.2, 7.4), reference.get_stamp(7.2, 7.4), atol=2e-3)


def test_oversampled_image_psf_argument_errors(tmp_path):
    data = oversampled_optical_gaussian(1.0, 3, 33)
    with pytest.raises(ValueError, match="exactly one of data"):
        PSF.get_psf_object("OversampledImagePSF")
    with pytest.raises(TypeError, match="square 2-D array"):
        PSF.get_psf_object("OversampledImagePSF", data=data[:-2], oversample_factor=3)
    with pytest.raises(ValueError, match="positive integer"):
        PSF.get_psf_object("OversampledImagePSF", data=data, oversample_factor=2.5)
    path = tmp_path / "psf.fits"
    fits.PrimaryHDU(data, header=fits.Header({"OVERSAMP": 3})).writeto(path)
    with pytest.raises(ValueError, match="disagrees with OVERSAMP=3"):
        PSF.get_psf_object("OversampledImagePSF", psffile=path, oversample_factor=5)


def test_image_psf_normalize_copies():
    data = 2 * oversampled_optical_gaussian(1.0, 3, 33)
    before = data.copy()
    psf = PSF.get_psf_object("OversampledImagePSF", data=data, oversample_factor=3, normalize=True)
    np.testing.assert_array_equal(data, before)
    assert psf.oversampled_data.sum() == pytest.approx(1.0)
    assert psf.get_stamp(0.0, 0.0).sum() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("n", [1, 4, 5])
def test_photutils_image_psf_matches_gaussian(n):
    sigma = 1.5
    psf = PSF.get_psf_object(
        "photutilsImagePSF", data=effective_gaussian(sigma, n, 21 * n), oversample_factor=n
    )
    assert psf.stamp_size == 21
    reference = PSF.get_psf_object("gaussian", sigmax=sigma, sigmay=sigma, stamp_size=21)
    for x, y in [(3.0, 4.0), (3.3, 3.6)] if n > 1 else [(3.0, 4.0)]:
        np.testing.assert_allclose(psf.get_stamp(x, y), reference.get_stamp(x, y), atol=3e-3)


# ------------------------------------------------------------------------------ photutils


def photutils_classes():
    return {
        "gaussian": {"sigmax": 1.2, "sigmay": 1.0, "theta": 20.0},
        "varying_gaussian": {"sca_size": 64},
        "OversampledImagePSF": {
            "data": oversampled_optical_gaussian(1.2, 3, 63),
            "oversample_factor": 3,
        },
        "photutilsImagePSF": {"data": effective_gaussian(1.2, 4, 60), "oversample_factor": 4},
    }


@pytest.mark.parametrize("psfclass", sorted(photutils_classes()))
@pytest.mark.parametrize("imagesampled", [True, False])
def test_get_photutils_psf_with_fractional_position(psfclass, imagesampled):
    """snappl raises TypeError here when the PSF was built with a float x, y."""
    psf = PSF.get_psf_object(psfclass, x=30.4, y=29.7, **photutils_classes()[psfclass])
    model = psf.getPhotutilsPSF(imagesampled=imagesampled)
    assert isinstance(model, ImagePSF)
    assert (model.x_0.value, model.y_0.value, model.flux.value) == (30.4, 29.7, 1.0)
    # the model on the image grid is the stamp (exactly, unless it is interpolated from an
    # oversampled ePSF or the PSF's shape differs between (30.4, 29.7) and (30, 30))
    h = psf.stamp_size // 2
    yy, xx = np.mgrid[30 - h : 30 + h + 1, 30 - h : 30 + h + 1]
    model.x_0, model.y_0 = 30.0, 30.0
    atol = 1e-12 if imagesampled and psfclass != "varying_gaussian" else 2e-3
    np.testing.assert_allclose(model(xx, yy), psf.get_stamp(30.0, 30.0), rtol=0, atol=atol)


def init_table(x, y, flux=1.0):
    return Table({"x": [x], "y": [y], "flux": [flux]})


def forced_psf_photometry(image, model, x, y, fit_shape=(7, 7)):
    model.x_0.fixed = model.y_0.fixed = True
    table = PSFPhotometry(model, fit_shape)(image, init_params=init_table(x, y))
    return float(table["flux_fit"][0])


@pytest.mark.parametrize("psfclass", sorted(photutils_classes()))
def test_psf_photometry_recovers_injected_flux(psfclass):
    psf = PSF.get_psf_object(psfclass, **photutils_classes()[psfclass])
    x, y, flux = 31.3, 30.6, 5000.0
    image = np.zeros((64, 64))
    h = psf.stamp_size // 2
    x0, y0 = math.floor(x + 0.5), math.floor(y + 0.5)
    image[y0 - h : y0 + h + 1, x0 - h : x0 + h + 1] += psf.get_stamp(x, y, flux=flux)
    model = psf.getPhotutilsPSF(x, y, imagesampled=False)
    assert forced_psf_photometry(image, model, x, y) == pytest.approx(flux, rel=2e-3)


def test_psf_photometry_imagesampled_at_pixel_centre():
    psf = PSF.get_psf_object("gaussian", sigmax=1.1, sigmay=1.1)
    image = np.zeros((64, 64))
    h = psf.stamp_size // 2
    image[31 - h : 31 + h + 1, 32 - h : 32 + h + 1] += psf.get_stamp(32.0, 31.0, flux=800.0)
    model = psf.getPhotutilsPSF(32.0, 31.0)
    assert forced_psf_photometry(image, model, 32.0, 31.0) == pytest.approx(800.0, rel=1e-6)


def test_psf_photometry_of_a_source_drawn_by_astropy():
    """A source rendered independently (astropy Gaussian2D, pixel-integrated) is measured
    with the Gaussian PSF's photutils model, with and without fitting the position."""
    sigma, x, y, flux = 1.3, 20.35, 19.8, 2500.0
    source = gaussian_density(sigma, sigma, 0.0, x_mean=x, y_mean=y, flux=flux)
    image = discretize_model(source, (0, 41), (0, 41), mode="oversample", factor=20)
    psf = PSF.get_psf_object("gaussian", sigmax=sigma, sigmay=sigma)
    model = psf.getPhotutilsPSF(x, y, imagesampled=False)
    assert forced_psf_photometry(image, model, x, y) == pytest.approx(flux, rel=1e-3)

    free = psf.getPhotutilsPSF(20.0, 20.0, imagesampled=False)
    table = PSFPhotometry(free, (7, 7))(image, init_params=init_table(20.0, 20.0, flux=2000.0))
    assert float(table["flux_fit"][0]) == pytest.approx(flux, rel=1e-3)
    assert (float(table["x_fit"][0]), float(table["y_fit"][0])) == pytest.approx((x, y), abs=2e-3)


def test_get_image_psf_is_gone():
    with pytest.raises(RuntimeError, match="getPhotutilsPSF"):
        PSF.get_psf_object("gaussian").getImagePSF()


# ------------------------------------------------------------------------- Roman (GalSim)


@pytest.fixture(scope="module")
def roman_psf():
    pytest.importorskip("galsim")
    return PSF.get_psf_object("ou24PSF", band="Y106", sca=7, x=1000.0, y=2000.0)


def test_ou24_stamp_normalised(roman_psf):
    assert roman_psf.stamp_size == 41
    assert 0.96 < roman_psf.get_stamp().sum() < 1.0
    big = PSF.get_psf_object("ou24PSF", band="Y106", sca=7, stamp_size=201)
    assert big.get_stamp(1000.2, 2000.4).sum() == pytest.approx(1.0, abs=3e-3)


def test_ou24_fwhm_is_roman_like(roman_psf):
    """Y106 on Roman: FWHM ~0.1–0.15″ including the 0.11″ pixel, i.e. ~1–1.5 px."""
    model = roman_psf.getPhotutilsPSF(imagesampled=False)
    n = model.oversampling[0]
    area = np.count_nonzero(model.data >= model.data.max() / 2) / n**2  # pixels²
    fwhm_pix = 2 * math.sqrt(area / math.pi)
    assert 0.8 < fwhm_pix < 2.0
    assert 0.09 < fwhm_pix * 0.11 < 0.22


def test_ou24_stamp_centre_at_requested_offset(roman_psf):
    """The Roman PSF is undersampled, so image-plane centroids (moments, 2-D Gaussian fits)
    are biased by the pixel phase; a PSF fit with the oversampled ePSF, drawn by a different
    GalSim path (no_pixel on a fine grid), finds the injected position."""
    x, y = 40.3, 39.8
    image = np.zeros((80, 80))
    image[20:61, 20:61] += roman_psf.get_stamp(x, y, x0=40, y0=40, flux=1000.0)
    model = roman_psf.getPhotutilsPSF(1000.0, 2000.0, imagesampled=False)
    table = PSFPhotometry(model, (7, 7))(image, init_params=init_table(40.0, 40.0, flux=900.0))
    assert (float(table["x_fit"][0]), float(table["y_fit"][0])) == pytest.approx((x, y), abs=2e-3)


def test_ou24_stamp_matches_oversampled_epsf(roman_psf):
    model = roman_psf.getPhotutilsPSF(1000.0, 2000.0, imagesampled=False)
    yy, xx = np.mgrid[0:41, 0:41]
    model.x_0, model.y_0 = 20.3, 19.8
    stamp = roman_psf.get_stamp(1000.3, 1999.8)
    np.testing.assert_allclose(model(xx, yy), stamp, rtol=0, atol=2e-3 * stamp.max())


def test_ou24_psf_photometry(roman_psf):
    x, y, flux = 40.2, 39.7, 3000.0
    image = np.zeros((80, 80))
    image[20:61, 20:61] += roman_psf.get_stamp(x, y, x0=40, y0=40, flux=flux)
    model = roman_psf.getPhotutilsPSF(x, y, imagesampled=False)
    # the model is the ePSF at the same detector position as the injected stamp
    assert forced_psf_photometry(image, model, x, y) == pytest.approx(flux, rel=5e-3)


def test_ou24_band_alias_and_image(roman_psf):
    class FakeImage:
        band, sca = "F106", 7

    other = PSF.get_psf_object("ou24PSF", image=FakeImage(), x=1000.0, y=2000.0)
    np.testing.assert_allclose(other.get_stamp(), roman_psf.get_stamp())


def test_ou24_caches_psf_per_grid_position(roman_psf):
    from snapscope._psf import _galsim

    assert roman_psf._galsim_psf(1000.0, 2000.0) is roman_psf._galsim_psf(1010.0, 1995.0)
    assert roman_psf._galsim_psf(1000.0, 2000.0) is not roman_psf._galsim_psf(3000.0, 2000.0)
    assert _galsim.POSITION_GRID == 64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sca": 1}, "needs a band"),
        ({"band": "Y106"}, "needs sca between 1 and 18"),
        ({"band": "Y106", "sca": 19}, "needs sca between 1 and 18"),
        ({"band": "Q999", "sca": 1}, "Unknown Roman band 'Q999'"),
    ],
)
def test_ou24_argument_errors(kwargs, message):
    pytest.importorskip("galsim")
    with pytest.raises(ValueError, match=message):
        PSF.get_psf_object("ou24PSF", **kwargs)


def test_simulator_style_epsf_file_matches_ou24(tmp_path, roman_psf):
    """An ePSF file made as the simulator makes it (GalSim Roman PSF × pixel, 4× oversampled
    in a 128-pixel box, sum 1, OVERSAMP=4, PSFTYPE='ePSF', centred at (N-1)/2) gives the same
    stamps as ou24PSF, to GalSim's own drawing accuracy (~1% of the peak): any mistake in
    centring, orientation or normalisation would be far larger."""
    galsim = pytest.importorskip("galsim")
    roman = pytest.importorskip("galsim.roman")

    optical = roman.getPSF(
        7,
        "Y106",
        wavelength=roman.getBandpasses()["Y106"],
        pupil_bin=8,
        SCA_pos=galsim.PositionD(1025, 2049),
    )
    in_pixels = galsim.PixelScale(roman.pixel_scale).toImage(optical)
    drawn = galsim.Convolve(in_pixels, galsim.Pixel(1.0)).drawImage(
        nx=512, ny=512, scale=0.25, method="no_pixel"
    )
    header = fits.Header({"OVERSAMP": 4, "PSFTYPE": "ePSF"})
    path = tmp_path / "epsf_Y106_7.fits"
    fits.PrimaryHDU((drawn.array / drawn.array.sum()).astype(np.float32), header).writeto(path)

    psf = PSF.get_psf_object("OversampledImagePSF", psffile=path)
    assert psf.epsf and psf.stamp_size == 129
    for x, y in [(1000.0, 2000.0), (1000.3, 1999.8), (1000.5, 2000.5)]:
        stamp, reference = psf.get_stamp(x, y)[44:85, 44:85], roman_psf.get_stamp(x, y)
        assert np.abs(stamp - reference).max() < 0.02 * reference.max()


def test_image_psf_phot_with_psf_built_at_fractional_position():
    """Image.psf_phot calls psf.getPhotutilsPSF(x, y): works for a PSF constructed with a
    float x, y (snappl: TypeError) and recovers injected fluxes within their errors."""
    from snapscope.image import Numpy2DImage

    psf = PSF.get_psf_object("gaussian", sigmax=1.5, sigmay=1.5, x=40.3, y=50.7)
    rng = np.random.default_rng(3)
    data = rng.normal(100.0, 5.0, (128, 128))
    positions = [(40.3, 50.7), (80.55, 30.2), (90.9, 99.45)]
    h = psf.stamp_size // 2
    for x, y in positions:
        x0, y0 = math.floor(x + 0.5), math.floor(y + 0.5)
        data[y0 - h : y0 + h + 1, x0 - h : x0 + h + 1] += psf.get_stamp(x, y, flux=20000.0)
    image = Numpy2DImage(data=data, noise=np.full_like(data, 5.0))
    xs, ys = zip(*positions, strict=True)
    table = image.psf_phot(Table({"x": xs, "y": ys, "flux_init": [1e4] * 3}), psf)
    pulls = (np.asarray(table["flux_fit"]) - 20000.0) / np.asarray(table["flux_err"])
    assert np.all(np.abs(pulls) < 4)
