// Viewport maths: image pixel coordinates (0-based pixel centres, y up) <-> CSS pixels of the
// canvas (origin top-left, y down), the pyramid level to show, and the tiles that cover the view.
import type { ImageTrait } from "./model";

export interface ViewState {
  /** Image pixel at the centre of the canvas. */
  cx: number;
  cy: number;
  /** CSS pixels per image pixel. */
  zoom: number;
  /** Rotation of the image on screen (radians, counter-clockwise; absent: 0). Linked views turn
   * their images so that every pane shows the sky in one orientation (link/skyView.ts). */
  rot?: number;
}

export interface Size {
  width: number;
  height: number;
  dpr: number;
}

export function imageToScreen(v: ViewState, s: Size, x: number, y: number): [number, number] {
  const u = (x - v.cx) * v.zoom, w = (y - v.cy) * v.zoom;
  if (!v.rot) return [s.width / 2 + u, s.height / 2 - w];
  const c = Math.cos(v.rot), n = Math.sin(v.rot);
  return [s.width / 2 + c * u - n * w, s.height / 2 - n * u - c * w];
}

export function screenToImage(v: ViewState, s: Size, sx: number, sy: number): [number, number] {
  const u = (sx - s.width / 2) / v.zoom, w = (s.height / 2 - sy) / v.zoom;
  if (!v.rot) return [v.cx + u, v.cy + w];
  const c = Math.cos(v.rot), n = Math.sin(v.rot);
  return [v.cx + c * u + n * w, v.cy - n * u + c * w];
}

/** The view moved by a drag of (dx, dy) CSS pixels: the image follows the mouse. */
export function panBy(v: ViewState, s: Size, dx: number, dy: number): ViewState {
  const [ox, oy] = screenToImage({ ...v, cx: 0, cy: 0 }, s, s.width / 2 + dx, s.height / 2 + dy);
  return { ...v, cx: v.cx - ox, cy: v.cy - oy };
}

/** Bounding box [x0, y0, x1, y1] in image pixels of what the canvas shows. */
export function visibleBounds(v: ViewState, s: Size): [number, number, number, number] {
  const corners = [[0, 0], [s.width, 0], [0, s.height], [s.width, s.height]].map(([x, y]) => screenToImage(v, s, x, y));
  const xs = corners.map((p) => p[0]), ys = corners.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** AIDA field of view (image pixels along the shorter canvas side) <-> zoom. */
export function fovToZoom(fov: number, s: Size): number {
  return Math.min(s.width, s.height) / Math.max(fov, 1e-9);
}

export function zoomToFov(zoom: number, s: Size): number {
  return Math.min(s.width, s.height) / zoom;
}

/** Zoom by `factor` keeping the image point under (sx, sy) fixed. */
export function zoomAbout(v: ViewState, s: Size, factor: number, sx: number, sy: number): ViewState {
  const [ix, iy] = screenToImage(v, s, sx, sy);
  const zoom = Math.min(Math.max(v.zoom * factor, 1e-4), 256);
  const [ox, oy] = screenToImage({ ...v, cx: 0, cy: 0, zoom }, s, sx, sy);
  return { ...v, zoom, cx: ix - ox, cy: iy - oy };
}

export function fitView(img: ImageTrait, s: Size): ViewState {
  const zoom = fovToZoom(Math.max(img.width, img.height), s);
  return { cx: (img.width - 1) / 2, cy: (img.height - 1) / 2, zoom };
}

/** Pyramid level whose pixels are closest (in log) to one device pixel. */
export function levelFor(img: ImageTrait, v: ViewState, s: Size): number {
  const imagePixelsPerDevicePixel = 1 / (v.zoom * s.dpr);
  const level = Math.round(Math.log2(Math.max(imagePixelsPerDevicePixel, 1e-9)));
  return Math.min(Math.max(level, 0), img.levels.length - 1);
}

/** Image-pixel edge coordinates [x0, y0, x1, y1] of a tile (pixel i spans [i-0.5, i+0.5]). */
export function tileBounds(img: ImageTrait, level: number, tx: number, ty: number): [number, number, number, number] {
  const f = 2 ** level;
  const [h, w] = img.levels[level];
  const t = img.tile_size;
  const x0 = tx * t, y0 = ty * t;
  const x1 = Math.min(x0 + t, w), y1 = Math.min(y0 + t, h);
  return [x0 * f - 0.5, y0 * f - 0.5, x1 * f - 0.5, y1 * f - 0.5];
}

export function tileCount(img: ImageTrait, level: number): [number, number] {
  const [h, w] = img.levels[level];
  return [Math.ceil(w / img.tile_size), Math.ceil(h / img.tile_size)];
}

/** Tiles of `level` that intersect the view, nearest to the view centre first. */
export function visibleTiles(img: ImageTrait, v: ViewState, s: Size, level: number): [number, number][] {
  const [ax, ay, bx, by] = visibleBounds(v, s);
  const span = img.tile_size * 2 ** level;
  const [ntx, nty] = tileCount(img, level);
  const tx0 = Math.max(0, Math.floor((ax + 0.5) / span));
  const tx1 = Math.min(ntx - 1, Math.floor((bx + 0.5) / span));
  const ty0 = Math.max(0, Math.floor((ay + 0.5) / span));
  const ty1 = Math.min(nty - 1, Math.floor((by + 0.5) / span));
  const out: [number, number, number][] = [];
  for (let ty = ty0; ty <= ty1; ty++) {
    for (let tx = tx0; tx <= tx1; tx++) {
      const dx = (tx + 0.5) * span - 0.5 - v.cx;
      const dy = (ty + 0.5) * span - 0.5 - v.cy;
      out.push([tx, ty, dx * dx + dy * dy]);
    }
  }
  out.sort((p, q) => p[2] - q[2]);
  return out.map(([tx, ty]) => [tx, ty]);
}
