// What every renderer (WebGL2 or canvas 2D) draws with.
import type { Tile } from "../tiles/cache";
import type { StretchSpec } from "./stretch";
import type { Lut } from "./colormaps";

export type Rgba = [number, number, number, number];

/** Everything that maps values to colours; changing it repaints without new tiles. */
export interface DisplayState {
  vmin: number;
  vmax: number;
  stretch: StretchSpec;
  lut: Lut;
  nan: Rgba;
  /** Bumped on every change, so renderers can tell cached colourings are stale. */
  version: number;
}

/** A tile's rectangle in canvas device pixels: left, top, right, bottom. */
export type Rect = [number, number, number, number];

export interface Renderer {
  readonly kind: "webgl2" | "canvas";
  /** Set the drawing-buffer size in device pixels. */
  resize(width: number, height: number): void;
  clear(color: Rgba): void;
  /** Turn what is drawn next by `angle` radians counter-clockwise about the canvas centre (the
   * rects stay those of the unturned view); `clear` turns it back to 0. */
  rotate(angle: number): void;
  drawTile(tile: Tile, rect: Rect, display: DisplayState): void;
  drawMask(tile: Tile, rect: Rect, color: Rgba): void;
  /** Free what the renderer attached to a tile (called on cache eviction). */
  release(tile: Tile): void;
  destroy(): void;
}
