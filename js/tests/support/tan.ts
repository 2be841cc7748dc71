// WCS grids of TAN projections for tests: pixel grids rotated, shifted and scaled on one sky.
import type { WcsGridTrait } from "../../src/model";
import { WcsGrid, type GridArrays } from "../../src/wcs";

const DEG = Math.PI / 180;

export interface Tan {
  crpix: [number, number];
  crval: [number, number];
  /** arcsec per pixel */
  scale: number;
  /** degrees: north's direction turned counter-clockwise from +y */
  rotation: number;
}

/** Grid arrays of a TAN projection with a CD matrix (east left when unrotated), 32 px nodes. */
function tanArrays(t: Tan, width: number, height: number): GridArrays {
  const step = 32, x0 = -64, y0 = -64;
  const nx = Math.ceil((width + 128) / step) + 1, ny = Math.ceil((height + 128) / step) + 1;
  const s = (t.scale / 3600) * DEG, c = Math.cos(t.rotation * DEG), n = Math.sin(t.rotation * DEG);
  const xi = new Float64Array(nx * ny), eta = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const u = x0 + i * step - t.crpix[0], v = y0 + j * step - t.crpix[1];
      xi[j * nx + i] = s * (-c * u - n * v);
      eta[j * nx + i] = s * (-n * u + c * v);
    }
  }
  return { x0, y0, dx: step, dy: step, nx, ny, ra0: t.crval[0], dec0: t.crval[1], xi, eta };
}

export function tanGrid(t: Tan, width = 600, height = 400): WcsGrid {
  return new WcsGrid(tanArrays(t, width, height));
}

/** The `wcs` entry of an `_images` trait (float64 arrays as little-endian DataViews). */
export function tanTrait(t: Tan, width = 600, height = 400): WcsGridTrait {
  const g = tanArrays(t, width, height);
  const bytes = (a: Float64Array) => new DataView(a.buffer);
  return {
    x0: g.x0, y0: g.y0, dx: g.dx, dy: g.dy, nx: g.nx, ny: g.ny, ra0: g.ra0, dec0: g.dec0,
    xi: bytes(g.xi), eta: bytes(g.eta), max_error_arcsec: 0, lon_name: "RA", lat_name: "Dec",
  };
}
