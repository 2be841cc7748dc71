"""PSF matching: the compact convolution kernel that turns one PSF into another.

Decisions
---------
* **A least-squares kernel, not a Fourier division.** ``K`` is the ``(2h+1)²`` array that
  minimises ``‖source ⊗ K − target‖²`` over the central box of the two PSF planes, with
  ``ΣK = 1`` (flux is carried by the zeropoints, so matching must neither add nor remove
  any: a static host then cancels whatever its brightness) and a tiny ridge (1e-9 of the
  mean diagonal) for stability. A Fourier division needs a regularisation constant chosen by
  hand, and its kernel, cut to a compact support afterwards, no longer matches; this one is
  the best compact kernel by construction (``residual`` says how good), and costs ~1–3 ms for
  an 11×11 kernel on a 31×31 box.
* **The sharper image is convolved.** Sharpness is ``Σ psf²`` (the inverse of the PSF's
  effective area). Convolving the broader PSF to match the sharper one would be a
  deconvolution: a kernel with negative lobes that amplifies noise. So the sharper of the
  two (science or resampled reference) is convolved, and the difference has the broader PSF.
* **Convolution is a true convolution** (``scipy.signal.fftconvolve``, ``mode='same'``):
  ``(S ⊗ K)[p] = Σ_q K[q] S[p − q]``, the same as ``astropy.convolution.convolve`` with
  ``normalize_kernel=False``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["match_kernel", "sharpness", "convolve"]


def sharpness(psf: np.ndarray) -> float:
    """Return ``Σ psf² / (Σ psf)²``, the inverse effective area (1/pixels) of a PSF stamp."""
    total = float(psf.sum())
    return float(np.sum(psf * psf)) / (total * total)


def _central(plane: np.ndarray, half: int) -> np.ndarray:
    c0, c1 = plane.shape[0] // 2, plane.shape[1] // 2
    return plane[c0 - half : c0 + half + 1, c1 - half : c1 + half + 1]


def match_kernel(source: np.ndarray, target: np.ndarray, half: int = 5, box: int = 15,
                 ) -> tuple[np.ndarray, float]:
    """Return the kernel ``K`` with ``source ⊗ K ≈ target`` and ``ΣK = 1``, and its residual.

    Parameters
    ----------
    source, target : numpy.ndarray
        Two PSF planes of the same shape, centred on the same position.
    half : int
        Kernel half-size: ``K`` is ``(2 half + 1)²``.
    box : int
        Half-size of the central box of the PSF planes that is fitted.

    Returns
    -------
    kernel : numpy.ndarray
        float64 ``(2 half + 1, 2 half + 1)`` array summing to 1.
    residual : float
        ``‖source ⊗ K − target‖ / ‖target‖`` over the box.

    Raises
    ------
    ValueError
        When the planes differ in shape or are too small for the box.
    """
    if source.shape != target.shape:
        raise ValueError(f"PSF planes differ in shape: {source.shape} and {target.shape}")
    box = min(box, (min(source.shape) - 1) // 2)
    if box <= half:
        raise ValueError(f"PSF planes of {source.shape} are too small for a kernel of half-size "
                         f"{half}")
    padded = np.pad(_central(source, box), half)
    n = 2 * box + 1
    # column (dy, dx) holds the source shifted by (dy, dx): (S ⊗ K)[p] = Σ_q K[q] S[p - q]
    columns = [padded[half - dy : half - dy + n, half - dx : half - dx + n].ravel()
               for dy in range(-half, half + 1) for dx in range(-half, half + 1)]
    design = np.stack(columns, axis=1)
    goal = _central(target, box).ravel()
    normal = design.T @ design
    m = normal.shape[0]
    normal[np.diag_indices(m)] += 1e-9 * np.trace(normal) / m
    system = np.block([[normal, np.ones((m, 1))], [np.ones((1, m)), np.zeros((1, 1))]])
    solution = np.linalg.solve(system, np.append(design.T @ goal, 1.0))
    kernel = solution[:m].reshape(2 * half + 1, 2 * half + 1)
    residual = float(np.linalg.norm(design @ solution[:m] - goal) / np.linalg.norm(goal))
    return kernel, residual


def convolve(plane: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Return ``plane ⊗ kernel`` on the grid of ``plane`` (zeros beyond its edges)."""
    from scipy.signal import fftconvolve

    return fftconvolve(plane, kernel, mode="same")
