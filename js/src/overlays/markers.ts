// Catalog markers, drawn on the 2D overlay canvas at screen positions of their pixel coordinates.
import { float64s, type CatalogTrait } from "../model";
import { imageToScreen, type Size, type ViewState } from "../view";

export interface Markers {
  label: string;
  shape: string;
  color: string;
  size: number;
  x: Float64Array;
  y: Float64Array;
}

export function markersFromTrait(c: CatalogTrait): Markers {
  return { label: c.label, shape: c.shape, color: c.color, size: c.size, x: float64s(c.x), y: float64s(c.y) };
}

function shapePath(ctx: CanvasRenderingContext2D, shape: string, x: number, y: number, r: number): void {
  switch (shape) {
    case "square":
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
      break;
    case "diamond":
      ctx.moveTo(x, y - r);
      ctx.lineTo(x + r, y);
      ctx.lineTo(x, y + r);
      ctx.lineTo(x - r, y);
      ctx.closePath();
      break;
    case "plus":
      ctx.moveTo(x - r, y);
      ctx.lineTo(x + r, y);
      ctx.moveTo(x, y - r);
      ctx.lineTo(x, y + r);
      break;
    case "crosshair":
      for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        ctx.moveTo(x + dx * r * 0.4, y + dy * r * 0.4);
        ctx.lineTo(x + dx * r * 1.4, y + dy * r * 1.4);
      }
      break;
    default:
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

/** Draw every catalog; `ctx` is scaled so that 1 unit = 1 CSS pixel. */
export function drawMarkers(ctx: CanvasRenderingContext2D, catalogs: Markers[], v: ViewState, s: Size): number {
  let drawn = 0;
  for (const c of catalogs) {
    ctx.beginPath();
    const r = Math.max(c.size, 1);
    for (let k = 0; k < c.x.length; k++) {
      const [sx, sy] = imageToScreen(v, s, c.x[k], c.y[k]);
      if (sx < -r || sy < -r || sx > s.width + r || sy > s.height + r) continue;
      shapePath(ctx, c.shape, sx, sy, r);
      drawn++;
    }
    ctx.strokeStyle = c.color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  return drawn;
}
