"""Point-spread functions with snappl's interface (``snappl.psf`` → ``snapscope.psf``).

Make one with :meth:`PSF.get_psf_object`::

    from snapscope.psf import PSF
    psf = PSF.get_psf_object("gaussian", sigmax=1.2, sigmay=1.2)
    stamp = psf.get_stamp(100.3, 200.7)          # image-scale, pixel-integrated, sums to 1
    model = psf.getPhotutilsPSF(100.3, 200.7)    # photutils ImagePSF for PSFPhotometry

Classes (``psfclass`` name → class): ``gaussian`` → :class:`GaussianPSF`, ``varying_gaussian``
→ :class:`VaryingGaussianPSF`, ``OversampledImagePSF``, ``photutilsImagePSF`` and ``ou24PSF``
(GalSim's Roman PSF; needs ``pip install 'snapscope[sim]'``).
"""

from ._psf._base import PSF
from ._psf._galsim import ou24PSF
from ._psf._gaussian import GaussianPSF, VaryingGaussianPSF
from ._psf._oversampled import OversampledImagePSF, photutilsImagePSF

__all__ = [
    "PSF",
    "GaussianPSF",
    "VaryingGaussianPSF",
    "OversampledImagePSF",
    "photutilsImagePSF",
    "ou24PSF",
]
