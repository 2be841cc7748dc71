// @vitest-environment jsdom
// One frame: coarse tiles fill in while the level the screen needs loads, and are skipped once
// that level covers the view; the frame says which tiles it wants (overview first).
import { beforeAll, describe, expect, it } from "vitest";
import { PLANE_DATA } from "../src/protocol";
import { TileCache } from "../src/tiles/cache";
import { decodeTile } from "../src/tiles/decode";
import { drawFrame, frameFields } from "../src/viewer/frame";
import { ViewerState } from "../src/viewer/state";
import { fakeCanvases, RecordingRenderer } from "./support/canvas";
import { imageModel, imageTrait, overviewOf, tileReply } from "./support/imageModel";
import type { TileAddress } from "../src/protocol";

beforeAll(fakeCanvases);

function setup() {
  const img = imageTrait("a", 256, 128, 64); // levels: 128×256 (4×2 tiles), 64×128, 32×64 (one tile)
  const model = imageModel(img);
  const state = new ViewerState(model, new AbortController().signal);
  state.resize({ width: 120, height: 60, dpr: 1 });
  state.readDisplays();
  state.readView((v) => v);
  const cache = new TileCache();
  const put = (a: TileAddress) => {
    const [h, w] = [Math.min(64, img.levels[a.level][0]), Math.min(64, img.levels[a.level][1])];
    const [msg, buffer] = tileReply(a, [h, w]);
    cache.put({ ...a, width: w, height: h, values: decodeTile(msg, buffer) });
  };
  const canvases = { renderer: new RecordingRenderer(), overlay: document.createElement("canvas") };
  return { img, state, cache, put, canvases };
}

const at = (level: number, tx: number, ty: number): TileAddress => ({ key: "a", plane: PLANE_DATA, level, tx, ty });

describe("a frame", () => {
  it("draws nothing and wants nothing before there is an image and a view", () => {
    const model = imageModel();
    const state = new ViewerState(model, new AbortController().signal);
    const canvases = { renderer: new RecordingRenderer(), overlay: document.createElement("canvas") };
    expect(drawFrame(canvases, state, new TileCache(), false)).toBeNull();
    expect(canvases.renderer.clears).toBe(1);
  });

  it("wants the overview, then the tiles of the screen's level, nearest the centre first", () => {
    const { img, state, cache, canvases } = setup();
    state.view = { cx: 127.5, cy: 63.5, zoom: 1 }; // level 0: the four central tiles of 8
    const f = drawFrame(canvases, state, cache, false)!;
    expect(f.level).toBe(0);
    expect(f.drawn).toBe(0);
    expect(f.wanted[0]).toEqual(overviewOf(img));
    expect(f.wanted.slice(1).map((a) => [a.tx, a.ty]).sort()).toEqual([[1, 0], [1, 1], [2, 0], [2, 1]]);
    expect(frameFields(f, state, cache)).toMatchObject({ drawn: 0, level: 0, missing: 5, crosshair: null });
  });

  it("fills gaps with the overview until the level is complete, then skips it", () => {
    const { img, state, cache, put, canvases } = setup();
    state.view = { cx: 127.5, cy: 63.5, zoom: 1 };
    put(overviewOf(img));
    put(at(0, 1, 0));
    let f = drawFrame(canvases, state, cache, false)!;
    expect(canvases.renderer.tiles.map(([t]) => t.level)).toEqual([2, 0]); // coarse first, under
    expect(frameFields(f, state, cache).missing).toBe(3);
    for (const [tx, ty] of [[1, 1], [2, 0], [2, 1]]) put(at(0, tx, ty));
    f = drawFrame(canvases, state, cache, false)!;
    expect(canvases.renderer.tiles.map(([t]) => t.level)).toEqual([0, 0, 0, 0]);
    expect(frameFields(f, state, cache)).toMatchObject({ drawn: 4, missing: 0 });
  });

  it("reports the crosshair and the view it drew", () => {
    const { img, state, cache, put, canvases } = setup();
    put(overviewOf(img));
    state.cross = [10, 20];
    const f = drawFrame(canvases, state, cache, false)!;
    const fields = frameFields(f, state, cache);
    expect(fields.crosshair).toBe("10,20");
    expect(JSON.parse(String(fields.view))).toEqual({ key: "a", cx: 127.5, cy: 63.5, zoom: 60 / 256, rot: 0 });
  });
});
