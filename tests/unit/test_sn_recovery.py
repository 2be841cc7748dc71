"""Forced aperture photometry of the simulated supernova recovers its true light curve.

An independent check: the truth comes from the simulator's manifest (fluxes injected with GalSim),
the measurement from snapscope's ``ap_phot`` with an aperture correction computed from the
simulator's ePSF with photutils directly.
"""

import numpy as np
import pytest
from astropy.io import fits
from photutils.aperture import CircularAperture, aperture_photometry

from snapscope.image import OpenUniverse2024FITSImage

R = 2.0


def _aperture_fraction(epsf_path, dx, dy, r):
    """Fraction of the ePSF's flux inside radius r, for a source at offset (dx, dy) from a pixel centre."""
    with fits.open(epsf_path) as hdul:
        epsf, n = hdul[0].data.astype(float), int(hdul[0].header["OVERSAMP"])
    c = (epsf.shape[0] - 1) / 2
    ap = CircularAperture([(c + dx * n, c + dy * n)], r=r * n)
    return aperture_photometry(epsf, ap, method="exact")["aperture_sum"][0] / epsf.sum()


@pytest.mark.slow
def test_sn_light_curve_recovered_within_errors(sim_survey):
    pulls = []
    for e in sim_survey.exposures:
        im = OpenUniverse2024FITSImage(full_filepath=e["path"])
        x, y = im.get_wcs().world_to_pixel(sim_survey.sn_ra, sim_survey.sn_dec)
        assert (x, y) == pytest.approx((e["sn_x"], e["sn_y"]), abs=0.01)
        phot = im.ap_phot({"x": [x], "y": [y]}, ap_r=R, method="exact", bgsize=0, error="noise")
        sky = float(im.get_fits_header()["SKY_MEAN"]) * np.pi * R**2
        frac = _aperture_fraction(sim_survey.path / f"epsf_{e['band']}_{im.sca}.fits",
                                  x - round(x), y - round(y), R)
        flux = (phot["aperture_sum"][0] - sky) / frac
        err = phot["aperture_sum_err"][0] / frac
        pulls.append((flux - e["sn_flux"]) / err)
    pulls = np.array(pulls)
    print("pulls", np.round(pulls, 2))
    assert len(pulls) >= 10
    assert np.all(np.abs(pulls) < 4), pulls
    assert abs(pulls.mean()) < 1.5 and pulls.std() < 2.0, pulls
