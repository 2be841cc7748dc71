// North/east compass and a scale bar, from the WCS grid's local frame at the view centre.
import type { WcsGrid } from "../wcs";

const NICE_ARCSEC = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000];

function label(arcsec: number): string {
  if (arcsec >= 3600) return `${arcsec / 3600}°`;
  if (arcsec >= 60) return `${arcsec / 60}′`;
  return `${arcsec}″`;
}

/** Draw the compass (bottom right) and scale bar (bottom left) in CSS-pixel units, for an image
 * turned `rot` radians counter-clockwise on screen. */
export function drawCompass(
  ctx: CanvasRenderingContext2D,
  grid: WcsGrid,
  cx: number,
  cy: number,
  zoom: number,
  width: number,
  height: number,
  color: string,
  rot = 0,
): void {
  const { scale, north, east } = grid.localFrame(cx, cy);
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.5;
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const ox = width - 40;
  const oy = height - 40;
  for (const [angle, name] of [[north, "N"], [east, "E"]] as const) {
    // Image y is up, screen y is down: flip the sine.
    const dx = Math.cos(angle + rot);
    const dy = -Math.sin(angle + rot);
    ctx.beginPath();
    ctx.moveTo(ox, oy);
    ctx.lineTo(ox + 24 * dx, oy + 24 * dy);
    ctx.stroke();
    ctx.fillText(name, ox + 33 * dx, oy + 33 * dy);
  }
  const arcsecPerCssPx = scale / zoom;
  const target = 80 * arcsecPerCssPx;
  const nice = NICE_ARCSEC.filter((a) => a <= target).pop() ?? NICE_ARCSEC[0];
  const len = nice / arcsecPerCssPx;
  ctx.beginPath();
  ctx.moveTo(12, height - 14);
  ctx.lineTo(12 + len, height - 14);
  ctx.moveTo(12, height - 18);
  ctx.lineTo(12, height - 10);
  ctx.moveTo(12 + len, height - 18);
  ctx.lineTo(12 + len, height - 10);
  ctx.stroke();
  ctx.textAlign = "left";
  ctx.fillText(label(nice), 12, height - 26);
  ctx.restore();
}
