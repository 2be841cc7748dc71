"""A simulated survey with supernovae on bright host galaxies, for the difference-imaging
tests (a pytest plugin: its fixtures serve every suite)."""

from __future__ import annotations

import pytest

#: Pre-explosion epochs (the reference) and epochs with supernova light.
TEMPLATE_MJDS = (62400.0, 62410.0, 62420.0, 62430.0)
SN_MJDS = (62455.0, 62462.0, 62468.0, 62475.0, 62485.0, 62500.0, 62520.0, 62545.0)
EXPLOSION = 62450.0
#: (host Y106 AB magnitude, SN offset from the host centre in arcsec).
HOSTS = ((19.0, 0.25), (19.5, 0.5), (20.5, 0.3), (21.5, 0.8))


@pytest.fixture(scope="session")
def hosted_survey(tmp_path_factory):
    """24 exposures of 256² (12 epochs × Y106, H158) with four supernovae on bright hosts
    (read-only)."""
    sim = pytest.importorskip("snapscope.sim")
    out = tmp_path_factory.mktemp("hosted-survey")
    return sim.make_survey(out, size=256, bands=("Y106", "H158"), mjds=TEMPLATE_MJDS + SN_MJDS,
                           seed=11, host=False, hosted=HOSTS, progress=False)


@pytest.fixture(scope="session")
def hosted_psfs(hosted_survey):
    """The oversampled effective PSF of each band of the hosted survey."""
    from snapscope.psf import PSF

    return {b: PSF.get_psf_object("OversampledImagePSF",
                                  psffile=hosted_survey.path / f"epsf_{b}_1.fits")
            for b in ("Y106", "H158")}
