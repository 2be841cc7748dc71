// Cursor readout with no kernel round trip: the pixel value comes from the finest loaded tile
// under the cursor, the sky position from the WCS grid.
import type { ImageTrait } from "../model";
import { PLANE_DATA } from "../protocol";
import type { TileCache } from "../tiles/cache";
import { sexagesimal, type WcsGrid } from "../wcs";

export interface Sample {
  value: number;
  /** Pyramid level the value came from (0 = the pixel itself, else a block mean). */
  level: number;
}

/** Value at image position (x, y) from the finest cached tile, or null if none covers it. */
export function valueAt(cache: TileCache, img: ImageTrait, x: number, y: number): Sample | null {
  const px = Math.round(x);
  const py = Math.round(y);
  if (px < 0 || py < 0 || px >= img.width || py >= img.height) return null;
  for (let level = 0; level < img.levels.length; level++) {
    const lx = Math.floor(px / 2 ** level);
    const ly = Math.floor(py / 2 ** level);
    const tx = Math.floor(lx / img.tile_size);
    const ty = Math.floor(ly / img.tile_size);
    const t = cache.peek({ key: img.key, plane: PLANE_DATA, level, tx, ty });
    if (!t) continue;
    const i = lx - tx * img.tile_size;
    const j = ly - ty * img.tile_size;
    if (i >= t.width || j >= t.height) continue;
    return { value: t.values[j * t.width + i], level };
  }
  return null;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(4) : v.toPrecision(6).replace(/\.?0+$/, "");
}

/** One-line readout, e.g. "x 10 y 20 | 1013.5 | RA 12:00:00.000 (180.000000°) Dec …". */
export function readout(img: ImageTrait, x: number, y: number, sample: Sample | null, grid: WcsGrid | null): string {
  const parts = [`x ${Math.round(x)}  y ${Math.round(y)}`];
  if (sample) parts.push(sample.level ? `≈${formatValue(sample.value)} (1/${2 ** sample.level} res)` : formatValue(sample.value));
  if (grid) {
    const [ra, dec] = grid.pixelToSky(x, y);
    const lon = grid.g.lonName ?? "RA";
    const lat = grid.g.latName ?? "Dec";
    if (lon === "RA") {
      const [hms, dms] = sexagesimal(ra, dec);
      parts.push(`${lon} ${hms} (${ra.toFixed(6)}°)  ${lat} ${dms} (${dec.toFixed(6)}°)`);
    } else {
      parts.push(`${lon} ${ra.toFixed(6)}°  ${lat} ${dec.toFixed(6)}°`);
    }
  }
  return parts.join("  |  ");
}

/** The linked crosshair at CSS pixel (sx, sy): two lines across the canvas, a gap in the middle. */
export function drawCrosshair(ctx: CanvasRenderingContext2D, sx: number, sy: number, width: number, height: number): void {
  ctx.save();
  ctx.strokeStyle = "rgba(0, 230, 255, 0.9)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const [a, b] of [[0, sx - 6], [sx + 6, width]]) { ctx.moveTo(a, sy + 0.5); ctx.lineTo(b, sy + 0.5); }
  for (const [a, b] of [[0, sy - 6], [sy + 6, height]]) { ctx.moveTo(sx + 0.5, a); ctx.lineTo(sx + 0.5, b); }
  ctx.stroke();
  ctx.restore();
}
