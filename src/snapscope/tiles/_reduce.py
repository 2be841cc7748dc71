"""Block sums and block means that ignore bad pixels, without ``nanmean``.

A block mean is a block sum of the valid values divided by the number of valid pixels.
Sums are built by strided in-place adds: first the ``f`` row phases (``a[i::f]``), then the
``f`` column phases of the (``f`` times smaller) result. That reads the input once, works on
big-endian memory maps directly (the add converts), and handles partial blocks at the edges
for free (a phase that runs out of rows simply adds to fewer output rows). It is several
times faster than ``reshape(...).mean()`` or ``nanmean`` (``test_data.md`` §5).

Accumulation is float32 (half the memory traffic of float64): a level-``m`` sum adds ``2**m``
rows then ``2**m`` columns, and each coarser level adds 2 × 2 of those, so the rounding error
of a block mean stays below ~1e-5 of the mean absolute value for any level in practice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from snapscope.tiles._source import BadPixels

__all__ = ["block_sum", "block_sum_count", "block_mean", "full_counts"]


def _phase_sum(a: np.ndarray, f: int, axis: int) -> np.ndarray:
    """Sum groups of ``f`` consecutive rows (axis 0) or columns (axis 1) into a float32 array."""

    def phase(i: int) -> np.ndarray:
        return a[i::f] if axis == 0 else a[:, i::f]

    def head(arr: np.ndarray, n: int) -> np.ndarray:
        return arr[:n] if axis == 0 else arr[:, :n]

    first = phase(0)
    if f == 1 or a.shape[axis] == 1:
        return first.astype(np.float32)
    second = phase(1)
    n = second.shape[axis]
    out = np.empty(first.shape, dtype=np.float32)
    np.add(head(first, n), second, out=head(out, n), dtype=np.float32)
    if n < first.shape[axis]:  # the last group has a single row/column
        tail = first[n:] if axis == 0 else first[:, n:]
        (out[n:] if axis == 0 else out[:, n:])[...] = tail
    for i in range(2, min(f, a.shape[axis])):
        more = phase(i)
        k = more.shape[axis]
        np.add(head(out, k), more, out=head(out, k))
    return out


def block_sum(a: np.ndarray, f: int) -> np.ndarray:
    """Sum ``a`` over ``f × f`` blocks; partial blocks at the far edges sum what exists.

    Parameters
    ----------
    a : numpy.ndarray
        2-D array (any real or bool dtype, any byte order, any strides).
    f : int
        Block size, ≥ 1.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(ceil(ny / f), ceil(nx / f))``, a new array.
    """
    return _phase_sum(_phase_sum(a, f, 0), f, 1)


def block_sum_count(
    a: np.ndarray, f: int, bad: BadPixels | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Sum and count the valid pixels of ``a`` in ``f × f`` blocks.

    Valid means finite and not bad. The plain block sums come first (one pass over ``a``);
    a non-finite sum marks a block with NaN or inf, and ``bad.flat()`` (one pass over the
    flags) the blocks with bad pixels. Only those blocks are recomputed: gathered one by one
    when they are few (scattered NaN, sparse flags: the usual case), or all at once with the
    invalid pixels zeroed when they cover more than an eighth of the section (e.g. a
    mosaic's NaN border).

    Parameters
    ----------
    a : numpy.ndarray
        2-D section of the image (may be a memory-map view, big-endian).
    f : int
        Block size, ≥ 1.
    bad : BadPixels, optional
        The section's bad-pixel mask.

    Returns
    -------
    sums : numpy.ndarray
        float32, shape ``(ceil(ny / f), ceil(nx / f))``.
    counts : numpy.ndarray or None
        float32 valid-pixel counts of the same shape, or None when every pixel was valid.
    """
    # inf - inf and float64 values beyond float32 give non-finite sums: those blocks are redone
    with np.errstate(invalid="ignore", over="ignore"):
        return _block_sum_count(a, f, bad)


def _block_sum_count(
    a: np.ndarray, f: int, bad: BadPixels | None
) -> tuple[np.ndarray, np.ndarray | None]:
    sums = block_sum(a, f)
    ny, nx = a.shape
    nbx = sums.shape[1]
    marked = ~np.isfinite(sums)
    if bad is not None:
        rows, cols = np.divmod(bad.flat(), nx)
        marked[rows // f, cols // f] = True
    blocks = np.flatnonzero(marked)
    if len(blocks) == 0:
        return sums, None
    if len(blocks) * f * f > a.size // 8:
        values = a.astype(np.float32)
        invalid = ~np.isfinite(values)
        if bad is not None:
            invalid |= bad.dense()
        np.copyto(values, np.float32(0), where=invalid)
        return block_sum(values, f), block_sum(~invalid, f)
    counts = full_counts(ny, nx, f)
    by, bx = np.divmod(blocks, nbx)
    offsets = np.arange(f)
    rr, cc = by[:, None] * f + offsets, bx[:, None] * f + offsets  # (n, f) pixel rows, cols
    inside = (rr < ny)[:, :, None] & (cc < nx)[:, None, :]
    flat = np.minimum(rr, ny - 1)[:, :, None] * nx + np.minimum(cc, nx - 1)[:, None, :]
    values = _take(a, flat).astype(np.float32)
    ok = inside & np.isfinite(values)
    if bad is not None:
        ok &= ~bad.take(flat)
    sums[by, bx] = np.where(ok, values, np.float32(0)).sum(axis=(1, 2))
    counts[by, bx] = ok.sum(axis=(1, 2))
    return sums, counts


def _take(a: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """``a.ravel()[flat]`` without copying a contiguous ``a`` (``np.take`` is the fast gather)."""
    if a.flags.c_contiguous:
        return np.take(a.reshape(-1), flat)
    return a[np.divmod(flat, a.shape[1])]


def block_mean(
    sums: np.ndarray,
    counts: np.ndarray | None,
    f: int,
    shape: tuple[int, int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Turn block sums into block means (float32, NaN where a block has no valid pixel).

    Parameters
    ----------
    sums, counts : numpy.ndarray
        From :func:`block_sum_count` (``counts`` None: every pixel was valid).
    f : int
        Block size the sums were made with.
    shape : tuple of int
        ``(ny, nx)`` of the full-resolution section, to size the partial edge blocks.
    out : numpy.ndarray, optional
        float32 array of ``sums``' shape to write into.

    Returns
    -------
    numpy.ndarray
        ``out`` (or a new float32 array) holding the means.
    """
    if out is None:
        out = np.empty(sums.shape, dtype=np.float32)
    if counts is not None:
        np.divide(sums, counts, out=out, where=counts > 0)
        out[counts == 0] = np.nan
        return out
    np.multiply(sums, np.float32(1.0 / (f * f)), out=out)  # exact for powers of two
    ny, nx = shape
    if ny % f:
        out[-1] = sums[-1] / (full_counts(1, nx, f)[0] * (ny % f))
    if nx % f:
        out[:, -1] = sums[:, -1] / (full_counts(ny, 1, f)[:, 0] * (nx % f))
    return out


def full_counts(ny: int, nx: int, f: int) -> np.ndarray:
    """Pixels per ``f × f`` block of an ``ny × nx`` section with no bad pixel (float32)."""
    rows = np.minimum(f, ny - f * np.arange(-(-ny // f))).astype(np.float32)
    cols = np.minimum(f, nx - f * np.arange(-(-nx // f))).astype(np.float32)
    return np.multiply.outer(rows, cols)
