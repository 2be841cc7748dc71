// Pixel <-> sky through the WCS grid sent once per image. Twin of grid_pixel_to_sky in
// src/snapscope/widgets/_wcsgrid.py: bicubic Catmull-Rom interpolation of gnomonic (xi, eta)
// about (ra0, dec0), then the inverse gnomonic projection, in float64.
import { float64s, type WcsGridTrait } from "./model";

const DEG = Math.PI / 180;

function catmullRom(t: number): [number, number, number, number] {
  const t2 = t * t;
  const t3 = t2 * t;
  return [
    0.5 * (-t3 + 2 * t2 - t),
    0.5 * (3 * t3 - 5 * t2 + 2),
    0.5 * (-3 * t3 + 4 * t2 + t),
    0.5 * (t3 - t2),
  ];
}

export interface GridArrays {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  nx: number;
  ny: number;
  ra0: number;
  dec0: number;
  xi: Float64Array;
  eta: Float64Array;
  lonName?: string;
  latName?: string;
}

export class WcsGrid {
  readonly g: GridArrays;

  constructor(g: GridArrays) {
    this.g = g;
  }

  static fromTrait(t: WcsGridTrait): WcsGrid {
    return new WcsGrid({
      ...t,
      xi: float64s(t.xi),
      eta: float64s(t.eta),
      lonName: t.lon_name,
      latName: t.lat_name,
    });
  }

  private interp(values: Float64Array, x: number, y: number): number {
    const { x0, y0, dx, dy, nx, ny } = this.g;
    const fx = (x - x0) / dx;
    const fy = (y - y0) / dy;
    const i = Math.min(Math.max(Math.floor(fx), 1), nx - 3);
    const j = Math.min(Math.max(Math.floor(fy), 1), ny - 3);
    const wx = catmullRom(fx - i);
    const wy = catmullRom(fy - j);
    let out = 0;
    for (let b = 0; b < 4; b++) {
      const row = (j + b - 1) * nx + i - 1;
      out +=
        wy[b] *
        (wx[0] * values[row] + wx[1] * values[row + 1] + wx[2] * values[row + 2] + wx[3] * values[row + 3]);
    }
    return out;
  }

  /** Tangent-plane coordinates (radians) of a pixel. */
  standard(x: number, y: number): [number, number] {
    return [this.interp(this.g.xi, x, y), this.interp(this.g.eta, x, y)];
  }

  /** Sky coordinates (degrees; lon in [0, 360)) of a 0-based pixel position. */
  pixelToSky(x: number, y: number): [number, number] {
    const [xi, eta] = this.standard(x, y);
    const a0 = this.g.ra0 * DEG;
    const d0 = this.g.dec0 * DEG;
    const rho = Math.hypot(xi, eta);
    const c = Math.atan(rho);
    const sinC = Math.sin(c);
    const cosC = Math.cos(c);
    const ratio = rho > 0 ? (eta * sinC) / rho : 0;
    const dec = Math.asin(Math.min(1, Math.max(-1, cosC * Math.sin(d0) + ratio * Math.cos(d0))));
    const ra = a0 + Math.atan2(xi * sinC, rho * Math.cos(d0) * cosC - eta * Math.sin(d0) * sinC);
    return [(((ra / DEG) % 360) + 360) % 360, dec / DEG];
  }

  /** Tangent-plane coordinates (radians) of a sky position. */
  static gnomonic(ra: number, dec: number, ra0: number, dec0: number): [number, number] {
    const a = ra * DEG;
    const d = dec * DEG;
    const a0 = ra0 * DEG;
    const d0 = dec0 * DEG;
    const cosC = Math.sin(d0) * Math.sin(d) + Math.cos(d0) * Math.cos(d) * Math.cos(a - a0);
    return [
      (Math.cos(d) * Math.sin(a - a0)) / cosC,
      (Math.cos(d0) * Math.sin(d) - Math.sin(d0) * Math.cos(d) * Math.cos(a - a0)) / cosC,
    ];
  }

  /** Pixel position of a sky position (Newton iterations on the interpolated grid). */
  skyToPixel(ra: number, dec: number, guess: [number, number] = [0, 0]): [number, number] {
    const [txi, teta] = WcsGrid.gnomonic(ra, dec, this.g.ra0, this.g.dec0);
    let [x, y] = guess;
    for (let k = 0; k < 20; k++) {
      const [xi, eta] = this.standard(x, y);
      const [xi1, eta1] = this.standard(x + 1, y);
      const [xi2, eta2] = this.standard(x, y + 1);
      const a = xi1 - xi, b = xi2 - xi, c = eta1 - eta, d = eta2 - eta;
      const det = a * d - b * c;
      const ex = txi - xi, ey = teta - eta;
      const sx = (d * ex - b * ey) / det;
      const sy = (-c * ex + a * ey) / det;
      x += sx;
      y += sy;
      if (Math.abs(sx) + Math.abs(sy) < 1e-9) break;
    }
    return [x, y];
  }

  /**
   * Local frame at a pixel: pixel scale (arcsec/pixel) and the directions of north and east
   * as angles (radians, counter-clockwise from +x in the image's pixel frame, y up).
   */
  localFrame(x: number, y: number): { scale: number; north: number; east: number } {
    const [xi, eta] = this.standard(x, y);
    const [xi1, eta1] = this.standard(x + 1, y);
    const [xi2, eta2] = this.standard(x, y + 1);
    // Jacobian d(xi,eta)/d(x,y); invert to get pixel directions of +eta (north) and +xi (east).
    const a = xi1 - xi, b = xi2 - xi, c = eta1 - eta, d = eta2 - eta;
    const det = a * d - b * c;
    const north: [number, number] = [-b / det, a / det];
    const east: [number, number] = [d / det, -c / det];
    const scale = (Math.sqrt(Math.abs(det)) / DEG) * 3600;
    return { scale, north: Math.atan2(north[1], north[0]), east: Math.atan2(east[1], east[0]) };
  }
}

/** Great-circle distance (arcsec) between two sky positions in degrees. */
export function separationArcsec(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const h = Math.sin(((dec2 - dec1) * DEG) / 2) ** 2 + Math.cos(dec1 * DEG) * Math.cos(dec2 * DEG) * Math.sin(((ra2 - ra1) * DEG) / 2) ** 2;
  return ((2 * Math.asin(Math.min(1, Math.sqrt(h)))) / DEG) * 3600;
}

/** "hh:mm:ss.sss" / "±dd:mm:ss.ss" strings of a position in degrees. */
export function sexagesimal(ra: number, dec: number): [string, string] {
  const pad = (v: number, n: number, digits = 0) => v.toFixed(digits).padStart(n + (digits ? digits + 1 : 0), "0");
  let h = ra / 15;
  let hh = Math.floor(h);
  let mm = Math.floor((h - hh) * 60);
  let ss = ((h - hh) * 60 - mm) * 60;
  if (ss >= 59.9995) { ss = 0; mm += 1; }
  if (mm >= 60) { mm = 0; hh = (hh + 1) % 24; }
  const sign = dec < 0 ? "-" : "+";
  const ad = Math.abs(dec);
  let dd = Math.floor(ad);
  let dm = Math.floor((ad - dd) * 60);
  let ds = ((ad - dd) * 60 - dm) * 60;
  if (ds >= 59.995) { ds = 0; dm += 1; }
  if (dm >= 60) { dm = 0; dd += 1; }
  return [`${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2, 3)}`, `${sign}${pad(dd, 2)}:${pad(dm, 2)}:${pad(ds, 2, 2)}`];
}
