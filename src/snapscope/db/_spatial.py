"""Extension-free, exact, index-backed spatial search: a hierarchical cube pixelisation.

Why not HEALPix, q3c or pg_sphere
---------------------------------
q3c and pg_sphere are PostgreSQL extensions: they are missing on the embedded (pip-installed)
server and on most hosted PostgreSQL services, and snappl's q3c polygon test does not use the
index anyway (a sequential scan, seconds per query over a million images). HEALPix would work,
but covering a polygon with HEALPix cells needs a careful ``query_polygon`` implementation
(astropy-healpix is not a dependency and its polygon query is approximate). This module uses a
simpler scheme whose covering is *provably conservative* with a few lines of numpy:

* The sphere is split into the 6 faces of a cube (like q3c and S2). On each face a point is
  projected gnomonically, ``u = p.e_u / p.n``, ``v = p.e_v / p.n``. A gnomonic projection maps
  great circles to straight lines, so a footprint (a quadrilateral with great-circle edges)
  becomes a straight-edged quadrilateral whose bounding box in ``(u, v)`` contains it. Cells are
  squares of a ``2**L x 2**L`` grid on ``s = 4/pi * atan(u)`` (monotonic, so boxes stay boxes,
  and cells are more even in area than a plain ``u`` grid).
* A cell id is ``uniq = (8 + face) * 4**L + morton(i, j)`` (HEALPix "NUNIQ"-like): the parent of
  a cell is ``uniq >> 2`` and ids of different levels never collide. Levels go to 20 (~0.3 mas).
* Each footprint stores, in an indexed ``bigint[]`` column ``cells`` (GIN):
  ``2*uniq`` ("E" keys) of the <= 3x3 cells per face at the finest level where the footprint's
  bounding box spans at most three cells per axis, and ``2*uniq + 1`` ("A" keys) of their
  ancestors at the even levels above (used only by cone searches). About 11 keys per image.
  (Measured trade-off: 2x2 covers are 7.3x their bounding box and made deep-field queries
  visit ~10 rows per hit; 3x3 covers are 3.4x, 4x4 2.3x but cost 16 keys per image in ingest.)
* A point query sends the E keys of the point's cell at every level 0..20 (21 keys):
  ``cells && keys`` finds every footprint whose covering contains the point, then an exact
  spherical test in SQL (:file:`migrations/0002_spatial.sql`) keeps the true ones.
* A cone query covers the circle with the cells of a circumscribed octagon at an even level
  ``Lq`` and sends, for each cell, its E and A keys and the E keys of its ancestors.

Exactness: the covering is a superset of the footprint (bounding boxes are inflated by 1e-12 and
every face the footprint can touch is included), and the final decision is the exact test on
unit vectors; so results are exact at RA 0/360, at the poles and for any rotation.
Footprints bigger than ~35 degrees get whole cube faces as their covering (still exact, just less
selective). The footprint must be a convex quadrilateral (corners 00, 01, 11, 10 in order, either
orientation) smaller than a hemisphere: :func:`valid_footprints` checks that before saving.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "LEVEL_MAX",
    "radec_to_xyz",
    "footprint_cells",
    "point_cells",
    "point_keys",
    "cone_keys",
    "valid_footprints",
]

LEVEL_MAX = 20
_A_LEVELS = np.arange(0, LEVEL_MAX, 2)
_EPS = 1e-12

_N = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, 0, -1]], float)
_EU = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], float)
_EV = np.cross(_N, _EU)


def radec_to_xyz(ra, dec) -> np.ndarray:
    """Return unit vectors (..., 3) of positions given in degrees."""
    ra = np.radians(np.asarray(ra, dtype=float))
    dec = np.radians(np.asarray(dec, dtype=float))
    cd = np.cos(dec)
    return np.stack([cd * np.cos(ra), cd * np.sin(ra), np.sin(dec)], axis=-1)


def _t(u: np.ndarray) -> np.ndarray:
    """Face coordinate u in [-1, 1] -> cell coordinate t in [0, 1]."""
    return (4.0 / np.pi * np.arctan(np.clip(u, -1.0, 1.0)) + 1.0) * 0.5


def _index(t: np.ndarray, level) -> np.ndarray:
    n = np.left_shift(np.int64(1), np.asarray(level, dtype=np.int64))
    return np.clip(np.floor(t * n).astype(np.int64), 0, n - 1)


def _part1by1(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x).astype(np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


def _uniq(face, level, i, j) -> np.ndarray:
    m = (_part1by1(i) | (_part1by1(j) << np.uint64(1))).astype(np.int64)
    return np.left_shift(np.asarray(face, np.int64) + 8, 2 * np.asarray(level, np.int64)) + m


def point_cells(ra, dec) -> np.ndarray:
    """``uniq`` ids of the finest (LEVEL_MAX) cells containing positions in degrees.

    Nearby positions get nearby ids (Morton order within a face): sorting rows by the cell of
    their centre stores footprints of one sky region together.
    """
    p = radec_to_xyz(ra, dec).reshape(-1, 3)
    d = p @ _N.T
    face = np.argmax(d, axis=1)
    dn = d[np.arange(len(p)), face]
    u = np.einsum("ni,ni->n", p, _EU[face]) / dn
    v = np.einsum("ni,ni->n", p, _EV[face]) / dn
    return _uniq(face, LEVEL_MAX, _index(_t(u), LEVEL_MAX), _index(_t(v), LEVEL_MAX))


def point_keys(ra: float, dec: float) -> list[int]:
    """E keys (``2*uniq``) of the cells containing one position, at every level 0..LEVEL_MAX."""
    top = int(point_cells(ra, dec)[0])
    return [2 * (top >> (2 * k)) for k in range(LEVEL_MAX + 1)]


def valid_footprints(ra_corners: np.ndarray, dec_corners: np.ndarray) -> np.ndarray:
    """Return True where corners (N, K), in order, make a convex polygon < a hemisphere.

    Both orientations are accepted; degenerate (zero-area, repeated corners), non-finite,
    self-intersecting or hemisphere-sized footprints are rejected.
    """
    ra_corners = np.asarray(ra_corners, float)
    dec_corners = np.asarray(dec_corners, float)
    ok = np.isfinite(ra_corners).all(1) & np.isfinite(dec_corners).all(1)
    ok &= (np.abs(dec_corners) <= 90).all(1)
    v = radec_to_xyz(
        np.where(np.isfinite(ra_corners), ra_corners, 0),
        np.where(np.isfinite(dec_corners), dec_corners, 0),
    )
    a, b, c = v, np.roll(v, -1, axis=1), np.roll(v, -2, axis=1)
    turn = np.einsum("nki,nki->nk", np.cross(a, b), c)
    tiny = 1e-18
    ok &= (turn > tiny).all(1) | (turn < -tiny).all(1)
    ok &= (np.einsum("nki,nki->nk", a, b) > 0).all(1)  # every edge shorter than 90 degrees
    if v.shape[1] == 4:  # the SQL test tells a footprint from its antipode by p.(v00 + v11) > 0
        for m in (v[:, 0] + v[:, 2], v[:, 1] + v[:, 3]):
            ok &= (np.einsum("nki,ni->nk", v, m) > 0).all(1)
    return ok


def _face_boxes(v: np.ndarray):
    """Per face: (rows, whole, tu0, tu1, tv0, tv1) of the polygons (vertices v (N, K, 3)) touching it.

    Only polygons with a vertex in the face's hemisphere are looked at (most touch one face).
    """
    out = []
    # the polygon lies in the cap around its mean direction m of radius rho; a face's region
    # lies in the cap around its normal of radius acos(1/sqrt(3)): faces beyond are never touched
    m = v.sum(1)
    m /= np.maximum(np.linalg.norm(m, axis=1), 1e-300)[:, None]
    rho = np.arccos(np.clip(np.einsum("nki,ni->nk", v, m).min(1), -1, 1))
    cos_lim = np.cos(np.minimum(rho + np.arccos(1 / np.sqrt(3)) + 1e-9, np.pi))
    for f in range(6):
        d_all = v @ _N[f]
        rows = np.nonzero((d_all > 0).any(1))[0]
        d, vf = d_all[rows], v[rows]
        allpos = (d > 1e-9).all(1)
        anypos = m[rows] @ _N[f] >= cos_lim[rows]
        dd = np.where(allpos[:, None], d, 1.0)
        u = (vf @ _EU[f]) / dd
        w = (vf @ _EV[f]) / dd
        umin, umax = u.min(1), u.max(1)
        wmin, wmax = w.min(1), w.max(1)
        umin, umax = umin - _EPS * (1 + np.abs(umin)), umax + _EPS * (1 + np.abs(umax))
        wmin, wmax = wmin - _EPS * (1 + np.abs(wmin)), wmax + _EPS * (1 + np.abs(wmax))
        inside = (umin <= 1) & (umax >= -1) & (wmin <= 1) & (wmax >= -1)
        whole = anypos & ~allpos
        t = (allpos & inside) | whole
        out.append((rows[t], whole[t], _t(umin[t]), _t(umax[t]), _t(wmin[t]), _t(wmax[t])))
    return out


def _enumerate(rows, faces, levels, i0, i1, j0, j1, tag):
    """Keys of all cells of the blocks [i0..i1] x [j0..j1]; returns (rows, keys)."""
    ni, nj = i1 - i0 + 1, j1 - j0 + 1
    n = ni * nj
    rep = np.repeat(np.arange(len(n)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    i = i0[rep] + k % ni[rep]
    j = j0[rep] + k // ni[rep]
    keys = 2 * _uniq(faces[rep], levels[rep], i, j) + tag
    return rows[rep], keys


def _blocks_to_keys(rows, faces, level, tu0, tu1, tv0, tv1, extra_a_levels=True):
    """E keys of the blocks at ``level`` and A keys of their ancestors at even levels."""
    out_rows, out_keys = [], []
    i0, i1 = _index(tu0, level), _index(tu1, level)
    j0, j1 = _index(tv0, level), _index(tv1, level)
    r, k = _enumerate(rows, faces, level, i0, i1, j0, j1, 0)
    out_rows.append(r)
    out_keys.append(k)
    if extra_a_levels:
        for a in _A_LEVELS:
            m = level > a
            if not m.any():
                continue
            sh = (level[m] - a).astype(np.int64)
            la = np.full(m.sum(), a, np.int64)
            r, k = _enumerate(
                rows[m], faces[m], la, i0[m] >> sh, i1[m] >> sh, j0[m] >> sh, j1[m] >> sh, 1
            )
            out_rows.append(r)
            out_keys.append(k)
    return np.concatenate(out_rows), np.concatenate(out_keys)


def footprint_cells(ra_corners, dec_corners) -> tuple[np.ndarray, np.ndarray]:
    """Index keys of N footprints, as a CSR pair ``(keys, offsets)``.

    Parameters
    ----------
    ra_corners, dec_corners : array_like, shape (N, K)
        Corners in degrees, in polygon order (snappl's 00, 01, 11, 10).

    Returns
    -------
    keys : ndarray of int64
        All keys, grouped by footprint; footprint ``n`` has ``keys[offsets[n]:offsets[n+1]]``.
    offsets : ndarray of int64, shape (N + 1,)
    """
    v = radec_to_xyz(ra_corners, dec_corners)
    if v.ndim == 2:
        v = v[None]
    nrow = v.shape[0]
    boxes = _face_boxes(v)
    span = np.zeros(nrow)
    for rows, whole, tu0, tu1, tv0, tv1 in boxes:
        part = rows[~whole]
        span[part] = np.maximum(span[part], np.maximum(tu1 - tu0, tv1 - tv0)[~whole])
    with np.errstate(divide="ignore"):
        level = np.floor(np.log2(2.0 / np.maximum(span, 1e-300))).astype(np.int64)
    level = np.clip(level, 0, LEVEL_MAX)
    rows_all, keys_all = [], []
    for f, (rows, whole, tu0, tu1, tv0, tv1) in enumerate(boxes):
        if not len(rows):
            continue
        # a whole face is level 0: i0=0, i1=0 since index(1.0, 0) == 0
        r, k = _blocks_to_keys(
            rows,
            np.full(len(rows), f, np.int64),
            np.where(whole, 0, level[rows]),
            np.where(whole, 0.0, tu0),
            np.where(whole, 1.0, tu1),
            np.where(whole, 0.0, tv0),
            np.where(whole, 1.0, tv1),
        )
        rows_all.append(r)
        keys_all.append(k)
    rows = np.concatenate(rows_all)
    keys = np.concatenate(keys_all)
    order = np.lexsort((keys, rows))
    rows, keys = rows[order], keys[order]
    keep = np.ones(len(keys), bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (keys[1:] != keys[:-1])
    rows, keys = rows[keep], keys[keep]
    offsets = np.zeros(nrow + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=nrow), out=offsets[1:])
    return keys, offsets


_Vec = tuple[float, float, float]


def _circumscribed_octagon(ra: float, dec: float, radius: float) -> list[_Vec]:
    """Return unit vectors of the corners of a spherical octagon that contains the circle."""
    c = (math.cos(math.radians(dec)) * math.cos(math.radians(ra)),
         math.cos(math.radians(dec)) * math.sin(math.radians(ra)), math.sin(math.radians(dec)))
    east = (-c[1], c[0], 0.0)  # z x c
    norm = math.hypot(east[0], east[1])
    east = (0.0, 1.0, 0.0) if norm < 1e-12 else (east[0] / norm, east[1] / norm, 0.0)
    north = (c[1] * east[2] - c[2] * east[1], c[2] * east[0] - c[0] * east[2],
             c[0] * east[1] - c[1] * east[0])
    big = math.atan(math.tan(math.radians(radius)) / math.cos(math.pi / 8)) * (1 + 1e-9) + 1e-12
    cb, sb = math.cos(big), math.sin(big)
    out = []
    for k in range(8):
        ca, sa = math.cos(k * math.pi / 4), math.sin(k * math.pi / 4)
        out.append(tuple(cb * c[i] + sb * (ca * east[i] + sa * north[i]) for i in range(3)))
    return out


def _t1(u: float) -> float:
    return (4.0 / math.pi * math.atan(min(1.0, max(-1.0, u))) + 1.0) * 0.5


def _index1(t: float, level: int) -> int:
    n = 1 << level
    return min(max(int(math.floor(t * n)), 0), n - 1)


def _boxes1(vs: list[_Vec]) -> list[tuple[int, bool, float, float, float, float]]:
    """Pure-Python :func:`_face_boxes` of one polygon: (face, whole, tu0, tu1, tv0, tv1)."""
    m = [sum(v[i] for v in vs) for i in range(3)]
    norm = math.sqrt(m[0] ** 2 + m[1] ** 2 + m[2] ** 2)
    m = [x / norm for x in m]
    rho = math.acos(min(1.0, max(-1.0, min(v[0] * m[0] + v[1] * m[1] + v[2] * m[2] for v in vs))))
    cos_lim = math.cos(min(rho + math.acos(1 / math.sqrt(3)) + 1e-9, math.pi))
    out = []
    for f in range(6):
        n, eu, ev = _N[f].tolist(), _EU[f].tolist(), _EV[f].tolist()
        d = [v[0] * n[0] + v[1] * n[1] + v[2] * n[2] for v in vs]
        allpos = min(d) > 1e-9
        anypos = max(d) > 0 and (m[0] * n[0] + m[1] * n[1] + m[2] * n[2]) >= cos_lim
        if anypos and not allpos:
            out.append((f, True, 0.0, 1.0, 0.0, 1.0))
            continue
        if not allpos:
            continue
        u = [(v[0] * eu[0] + v[1] * eu[1] + v[2] * eu[2]) / dk for v, dk in zip(vs, d, strict=True)]
        w = [(v[0] * ev[0] + v[1] * ev[1] + v[2] * ev[2]) / dk for v, dk in zip(vs, d, strict=True)]
        umin, umax = min(u), max(u)
        wmin, wmax = min(w), max(w)
        umin, umax = umin - _EPS * (1 + abs(umin)), umax + _EPS * (1 + abs(umax))
        wmin, wmax = wmin - _EPS * (1 + abs(wmin)), wmax + _EPS * (1 + abs(wmax))
        if umin <= 1 and umax >= -1 and wmin <= 1 and wmax >= -1:
            out.append((f, False, _t1(umin), _t1(umax), _t1(wmin), _t1(wmax)))
    return out


def _uniq1(face: int, level: int, i: int, j: int) -> int:
    m = 0
    for b in range(level):
        m |= ((i >> b) & 1) << (2 * b) | ((j >> b) & 1) << (2 * b + 1)
    return ((8 + face) << (2 * level)) + m


def cone_keys(ra: float, dec: float, radius: float) -> list[int]:
    """Keys to send (``cells && keys``) for footprints that may intersect a circle.

    Pure Python (one small polygon: numpy's per-call overhead would dominate).

    Parameters
    ----------
    ra, dec, radius : float
        Centre and radius of the circle in degrees.
    """
    if radius >= 30:
        return sorted({2 * (8 + f) for f in range(6)} | {2 * (8 + f) + 1 for f in range(6)})
    boxes = _boxes1(_circumscribed_octagon(ra, dec, radius))
    spans = [max(b[3] - b[2], b[5] - b[4]) for b in boxes if not b[1]]
    span = max(spans) if spans else 1.0
    lq = int(min(max(math.floor(math.log2(1.0 / max(span, 1e-300))), 0), LEVEL_MAX - 1))
    lq -= lq % 2  # an A level, so that finer footprints match by their A keys
    keys: set[int] = set()
    for f, whole, tu0, tu1, tv0, tv1 in boxes:
        lv = 0 if whole else lq
        for i in range(_index1(tu0, lv), _index1(tu1, lv) + 1):
            for j in range(_index1(tv0, lv), _index1(tv1, lv) + 1):
                q = _uniq1(f, lv, i, j)
                keys.add(2 * q)
                keys.add(2 * q + 1)
                for k in range(1, lv + 1):
                    keys.add(2 * (q >> (2 * k)))
    return sorted(keys)
