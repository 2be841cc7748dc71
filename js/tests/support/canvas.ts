// Stand-ins for what jsdom lacks (canvas contexts, ImageData, CSS.escape, ResizeObserver) and
// a renderer that records the tiles drawn.
import { vi } from "vitest";
import type { DisplayState, Rect, Renderer, Rgba } from "../../src/render/types";
import type { Tile } from "../../src/tiles/cache";

/** A CanvasRenderingContext2D that accepts every call and records its name. */
export function recordingContext(calls: string[] = []): CanvasRenderingContext2D {
  const target: Record<string | symbol, unknown> = {
    calls,
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(4 * w * h) }),
  };
  return new Proxy(target, {
    get: (t, name) => (name in t ? t[name] : (...args: unknown[]) => void calls.push(String(name), ...args.map(() => ""))),
    set: (t, name, value) => ((t[name] = value), true),
  }) as unknown as CanvasRenderingContext2D;
}

/** Make every canvas of the page return a recording 2D context (and no WebGL). */
export function fakeCanvases(): void {
  HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, kind: string) {
    return kind === "2d" ? recordingContext() : null;
  } as HTMLCanvasElement["getContext"];
}

/** Everything a whole view needs that jsdom lacks (undo with vi.unstubAllGlobals). */
export function browserGaps(): void {
  fakeCanvases();
  vi.stubGlobal("ResizeObserver", class { observe() {} disconnect() {} });
  vi.stubGlobal("CSS", { escape: (s: string) => s.replace(/["\\]/g, "\\$&") });
  vi.stubGlobal("ImageData", class {
    constructor(readonly data: Uint8ClampedArray, readonly width: number, readonly height: number) {}
  });
}

export class RecordingRenderer implements Renderer {
  readonly kind = "canvas";
  tiles: [Tile, Rect, DisplayState][] = [];
  masks: Tile[] = [];
  clears = 0;
  angle = 0;
  resize(): void {}
  clear(_c: Rgba): void {
    this.clears++;
    this.tiles = [];
  }
  rotate(angle: number): void {
    this.angle = angle;
  }
  drawTile(tile: Tile, rect: Rect, display: DisplayState): void {
    this.tiles.push([tile, rect, display]);
  }
  drawMask(tile: Tile): void {
    this.masks.push(tile);
  }
  release(): void {}
  destroy(): void {}
}
