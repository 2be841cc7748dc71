// One frame of a view: the cached tiles of the displayed image (coarse levels first, so a
// blurry picture shows while finer tiles load), the mask, then the overlays (catalogue markers,
// compass, crosshair). Returns the tiles the view wants, for the scheduler to ask for.
import type { ImageTrait } from "../model";
import { drawCompass } from "../overlays/compass";
import { drawCrosshair } from "../overlays/cursor";
import { drawMarkers } from "../overlays/markers";
import { PLANE_DATA, PLANE_MASK, type Plane, type TileAddress } from "../protocol";
import type { DisplayState, Renderer, Rgba } from "../render/types";
import type { Fields } from "../telemetry";
import type { TileCache } from "../tiles/cache";
import * as V from "../view";
import type { ViewerState } from "./state";

const MASK_COLOR: Rgba = [255, 40, 40, 140];

/** What a frame drew and what it wants. */
export interface Frame {
  img: ImageTrait;
  view: V.ViewState;
  /** Pyramid level that matches the screen resolution. */
  level: number;
  /** Tiles drawn (all levels, both planes). */
  drawn: number;
  /** Tiles the view needs, in the order to ask for them (overviews first, then nearest the centre). */
  wanted: TileAddress[];
}

export interface Canvases {
  renderer: Renderer;
  /** The 2D canvas over the image (markers, compass, crosshair). */
  overlay: HTMLCanvasElement;
}

function overviewTile(img: ImageTrait, plane: Plane): TileAddress {
  return { key: img.key, plane, level: img.levels.length - 1, tx: 0, ty: 0 };
}

/** Draw the tiles of one plane; returns how many were drawn and the tiles the view needs. */
function drawPlane(
  renderer: Renderer, cache: TileCache, img: ImageTrait, view: V.ViewState, size: V.Size, plane: Plane,
  level: number, display: DisplayState,
): { drawn: number; wanted: TileAddress[] } {
  // Tiles are placed in the unturned view; the renderer turns them about the canvas centre.
  const flat = { ...view, rot: 0 };
  const [vx0, vy0, vx1, vy1] = V.visibleBounds(view, size);
  const visible = V.visibleTiles(img, view, size, level).map(([tx, ty]) => ({ key: img.key, plane, level, tx, ty }));
  // Coarser levels fill the gaps while finer tiles load; once the view is complete they
  // would only be overdrawn (costly with software WebGL), so they are skipped.
  const complete = visible.every((a) => cache.has(a));
  let drawn = 0;
  for (let l = complete ? level : img.levels.length - 1; l >= level; l--) {
    for (const t of cache.at(img.key, plane, l)) {
      const [x0, y0, x1, y1] = V.tileBounds(img, l, t.tx, t.ty);
      if (x1 < vx0 || x0 > vx1 || y1 < vy0 || y0 > vy1) continue;
      const [left, bottom] = V.imageToScreen(flat, size, x0, y0);
      const [right, top] = V.imageToScreen(flat, size, x1, y1);
      const d = size.dpr;
      const rect: [number, number, number, number] = [left * d, top * d, right * d, bottom * d];
      if (plane === PLANE_DATA) renderer.drawTile(t, rect, display);
      else renderer.drawMask(t, rect, MASK_COLOR);
      drawn++;
    }
  }
  return { drawn, wanted: [overviewTile(img, plane), ...visible] };
}

/** Draw one frame; null when there is nothing to draw (no image, view or display yet). */
export function drawFrame(canvases: Canvases, state: ViewerState, cache: TileCache, showMask: boolean): Frame | null {
  const { renderer, overlay } = canvases;
  const { width, height, dpr } = state.size;
  renderer.clear(state.background);
  const octx = overlay.getContext("2d") as CanvasRenderingContext2D;
  octx.setTransform(1, 0, 0, 1, 0, 0);
  octx.clearRect(0, 0, overlay.width, overlay.height);
  const img = state.image();
  const display = img && state.displays.get(img.key);
  const view = state.view;
  if (!img || !view || !display) return null;
  renderer.rotate(view.rot ?? 0);
  const level = V.levelFor(img, view, state.size);
  const planes: Plane[] = showMask && img.has_mask ? [PLANE_DATA, PLANE_MASK] : [PLANE_DATA];
  let drawn = 0;
  const wanted: TileAddress[] = [];
  for (const plane of planes) {
    const p = drawPlane(renderer, cache, img, view, state.size, plane, level, display);
    drawn += p.drawn;
    wanted.push(...p.wanted);
  }
  octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  drawMarkers(octx, state.markers, view, state.size);
  const grid = state.grid(img);
  if (grid) drawCompass(octx, grid, view.cx, view.cy, view.zoom, width, height, state.foreground, view.rot);
  if (state.cross) drawCrosshair(octx, ...V.imageToScreen(view, state.size, ...state.cross), width, height);
  return { img, view, level, drawn, wanted };
}

/** Telemetry of a frame (telemetry.ts): what it drew, where, and how many wanted tiles are missing. */
export function frameFields(f: Frame, state: ViewerState, cache: TileCache): Fields {
  const v = f.view;
  return {
    drawn: f.drawn,
    level: f.level,
    missing: f.wanted.filter((a) => !cache.has(a)).length,
    view: JSON.stringify({ key: f.img.key, cx: v.cx, cy: v.cy, zoom: v.zoom, rot: v.rot ?? 0 }),
    crosshair: state.cross ? state.cross.join(",") : null,
  };
}
