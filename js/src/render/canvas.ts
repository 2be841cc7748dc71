// Canvas 2D fallback when WebGL2 is missing: each tile is coloured on the CPU with the same
// maths as the shader (stretch.ts) into an offscreen canvas, recoloured when the display changes.
import type { Tile } from "../tiles/cache";
import { lutIndex, normalize } from "./stretch";
import type { DisplayState, Rect, Renderer, Rgba } from "./types";

interface Painted {
  canvas: HTMLCanvasElement;
  version: number;
}

function paint(tile: Tile, pixel: (v: number, out: Uint8ClampedArray, o: number) => void): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = tile.width;
  c.height = tile.height;
  const ctx = c.getContext("2d") as CanvasRenderingContext2D;
  const img = ctx.createImageData(tile.width, tile.height);
  for (let r = 0; r < tile.height; r++) {
    const dst = (tile.height - 1 - r) * tile.width; // tile row 0 is the bottom
    for (let i = 0; i < tile.width; i++) pixel(tile.values[r * tile.width + i], img.data, 4 * (dst + i));
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export class CanvasRenderer implements Renderer {
  readonly kind = "canvas";
  private ctx: CanvasRenderingContext2D;
  private masks = new WeakMap<Tile, HTMLCanvasElement>();
  private angle = 0;

  constructor(private canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  }

  resize(width: number, height: number): void {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
  }

  clear([r, g, b, a]: Rgba): void {
    this.ctx.fillStyle = `rgba(${r},${g},${b},${a / 255})`;
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.angle = 0;
  }

  rotate(angle: number): void {
    this.angle = angle;
  }

  private blit(src: HTMLCanvasElement, [l, t, r, b]: Rect): void {
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = false;
    if (this.angle) {
      // Counter-clockwise on screen (y down) about the canvas centre (X, Y).
      const c = Math.cos(this.angle), s = Math.sin(this.angle);
      const X = this.canvas.width / 2, Y = this.canvas.height / 2;
      ctx.setTransform(c, -s, s, c, X - c * X - s * Y, Y + s * X - c * Y);
    }
    ctx.drawImage(src, l, t, r - l, b - t);
    if (this.angle) ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  drawTile(tile: Tile, rect: Rect, d: DisplayState): void {
    let p = tile.gpu as Painted | undefined;
    if (!p || p.version !== d.version) {
      const canvas = paint(tile, (v, out, o) => {
        const s = normalize(v, d.vmin, d.vmax, d.stretch);
        if (Number.isNaN(s)) out.set(d.nan, o);
        else out.set(d.lut.subarray(4 * lutIndex(s), 4 * lutIndex(s) + 4), o);
      });
      p = { canvas, version: d.version };
      tile.gpu = p;
    }
    this.blit(p.canvas, rect);
  }

  drawMask(tile: Tile, rect: Rect, color: Rgba): void {
    let c = this.masks.get(tile);
    if (!c) {
      c = paint(tile, (v, out, o) => {
        const m = v > 0 ? Math.min(v, 1) : 0;
        out.set([color[0], color[1], color[2], Math.round(color[3] * m)], o);
      });
      this.masks.set(tile, c);
    }
    this.blit(c, rect);
  }

  release(tile: Tile): void {
    tile.gpu = undefined;
    this.masks.delete(tile);
  }

  destroy(): void {}
}
