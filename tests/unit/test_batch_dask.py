"""snapscope.batch on a 2-worker Dask LocalCluster gives the serial results, bit for bit.

One exception: a cutout's WCS sent back from a worker *process* went through astropy's pickling
(its FITS header), which keeps positions to ~1e-13 degrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from snapscope import batch
from snapscope.image import OpenUniverse2024FITSImage

pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=[False, True], ids=["threads", "processes"])
def client(request):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=request.param,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def _images(sim_survey):
    images = [OpenUniverse2024FITSImage(full_filepath=e["path"]) for e in sim_survey.exposures[:8]]
    images[0].get_wcs()  # an image with an open file must travel too
    return images


def test_photometry_same_on_dask(sim_survey, client):
    from snapscope.psf import PSF

    psf = {b: PSF.get_psf_object("OversampledImagePSF", psffile=sim_survey.path / f"epsf_{b}_1.fits")
           for b in ("Y106", "H158")}
    pos = [(sim_survey.sn_ra, sim_survey.sn_dec), (sim_survey.sn_ra + 0.001, sim_survey.sn_dec)]
    serial = batch.forced_photometry(_images(sim_survey), pos, psf=psf, workers=1, progress=False)
    threads = batch.forced_photometry(_images(sim_survey), pos, psf=psf, workers=4, progress=False)
    dask = batch.forced_photometry(_images(sim_survey), pos, psf=psf, client=client, progress=False)
    assert len(serial) == 32
    for other in (threads, dask):
        assert other.colnames == serial.colnames
        for name in serial.colnames:
            np.testing.assert_array_equal(other[name], serial[name], err_msg=name)
        assert other.meta == serial.meta


def test_cutouts_same_on_dask(sim_survey, client):
    pos = (sim_survey.sn_ra, sim_survey.sn_dec)
    serial = batch.cutouts(_images(sim_survey), pos, 25, workers=1, progress=False)
    done = []
    dask = batch.cutouts(_images(sim_survey), pos, 25, client=client, progress=False,
                         callback=lambda n, total: done.append((n, total)))
    assert done[-1] == (8, 8)
    for a, b in zip(serial, dask, strict=True):
        for plane in ("data", "noise", "flags"):
            np.testing.assert_array_equal(getattr(a, plane), getattr(b, plane))
        for name in ("band", "mjd", "exptime", "sca", "observation_id", "sky_level"):
            assert getattr(a, name) == getattr(b, name)
        assert a.get_zeropoint() == b.get_zeropoint()
        assert b.get_wcs().pixel_to_world(1.0, 2.0) == pytest.approx(
            a.get_wcs().pixel_to_world(1.0, 2.0), abs=1e-12, rel=0)
        assert a.fraction_masked() == b.fraction_masked()


def test_consecutive_calls_with_the_same_arguments(sim_survey, client):
    """Regression: a call's scattered arguments must not be released under the next call
    (content-hashed keys were shared between calls: "lost dependencies")."""
    images = _images(sim_survey)[:4]
    pos = (sim_survey.sn_ra, sim_survey.sn_dec)
    for _ in range(3):
        assert len(batch.forced_photometry(images, pos, client=client, progress=False)) == 4
        assert batch.cutouts(images, pos, 9, client=client, progress=False).errors == [None] * 4


def _results_held(dask_scheduler):
    """Tasks of batch calls whose result the cluster still keeps."""
    return sum(1 for ts in dask_scheduler.tasks.values()
               if str(ts.key).startswith("_call") and ts.state == "memory")


def test_results_are_released_on_the_workers_as_they_arrive(sim_survey, client):
    """Results are not held twice: once one has reached the client, the cluster drops it."""
    images = _images(sim_survey) * 5
    held = []
    table = batch.forced_photometry(
        images, (sim_survey.sn_ra, sim_survey.sn_dec), client=client, progress=False,
        callback=lambda done, total: held.append(client.run_on_scheduler(_results_held)))
    assert len(table) == len(held) == 40
    # kept until all arrived, the cluster would hold ~40 at the end; released, a few in flight
    assert max(held) <= len(images) // 2, held


def test_difference_photometry_same_on_dask(sim_survey, client):
    """The reference travels to the workers pickled (its WCS through a FITS header), so the
    numbers agree to ~1e-9, not to the bit."""
    pytest.importorskip("reproject")
    from snapscope.psf import PSF

    psf = {b: PSF.get_psf_object("OversampledImagePSF", psffile=sim_survey.path / f"epsf_{b}_1.fits")
           for b in ("Y106", "H158")}
    pos = (sim_survey.sn_ra, sim_survey.sn_dec)

    def measure(**backend):
        images = _images(sim_survey)
        return batch.difference_photometry([im for im in images if im.mjd > 62450], pos,
                                           psf=psf, before=62450, reference_images=images,
                                           progress=False, **backend)

    serial, dask = measure(), measure(client=client)
    assert len(serial) == 12 and dask.colnames == serial.colnames
    for name in serial.colnames:
        if serial[name].dtype.kind == "f":
            np.testing.assert_allclose(dask[name], serial[name], rtol=1e-7, err_msg=name)
        else:
            np.testing.assert_array_equal(dask[name], serial[name], err_msg=name)
