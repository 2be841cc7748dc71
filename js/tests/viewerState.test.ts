// @vitest-environment jsdom
// What a view keeps of its model: the view read from `_view` (ignoring the echo of its own
// writes), a newly displayed image aligned on the same sky, the fov kept across resizes, and
// the view written back to `_view` once per gesture.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ViewState } from "../src/view";
import { ViewerState } from "../src/viewer/state";
import { separationArcsec } from "../src/wcs";
import { displayTrait, imageModel, imageTrait } from "./support/imageModel";
import { tanTrait, type Tan } from "./support/tan";

const A: Tan = { crpix: [300, 200], crval: [150.1, 2.2], scale: 0.11, rotation: 0 };
const B: Tan = { crpix: [340, 160], crval: [150.1, 2.2], scale: 0.22, rotation: 0 };
const same = (v: ViewState) => v;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup() {
  const a = imageTrait("a", 600, 400, 64, tanTrait(A));
  const b = imageTrait("b", 600, 400, 64, tanTrait(B));
  const model = imageModel(a, b);
  const ctl = new AbortController();
  const state = new ViewerState(model, ctl.signal);
  state.resize({ width: 300, height: 200, dpr: 1 });
  return { model, state, ctl };
}

describe("viewer state", () => {
  it("fits a new image with no `_view`, then writes that view to `_view` once, after the debounce", () => {
    const { model, state } = setup();
    state.readView(same);
    expect(state.view).toEqual({ cx: 299.5, cy: 199.5, zoom: 200 / 600 });
    state.pushView();
    state.pushView();
    expect(model.saves).toBe(0);
    vi.advanceTimersByTime(120);
    expect(model.saves).toBe(1);
    expect(model.get("_view")).toEqual({ key: "b", x: 299.5, y: 199.5, fov: 600 });
  });

  it("takes a `_view` from Python, but not the echo of its own", () => {
    const { model, state } = setup();
    model.set("_view", { key: "b", x: 100, y: 50, fov: 100 });
    state.readView(same);
    expect(state.view).toEqual({ cx: 100, cy: 50, zoom: 2 });
    state.pushView();
    vi.advanceTimersByTime(120);
    state.view = { cx: 120, cy: 60, zoom: 2 }; // the user goes on panning; the echo comes back
    state.readView(same);
    expect(state.view).toEqual({ cx: 120, cy: 60, zoom: 2 });
  });

  it("keeps the sky centre and the sky scale when another image is displayed", () => {
    const { model, state } = setup();
    model.set("_displayed", "a");
    model.set("_view", { key: "a", x: 250, y: 180, fov: 50 });
    state.readView(same);
    const [ra, dec] = state.grid(model.get("_images").a)!.pixelToSky(250, 180);
    model.set("_displayed", "b");
    state.readView(same);
    const v = state.view!;
    const [ra2, dec2] = state.grid(model.get("_images").b)!.pixelToSky(v.cx, v.cy);
    expect(separationArcsec(ra, dec, ra2, dec2)).toBeLessThan(1e-6);
    expect(v.zoom).toBeCloseTo(4 * (0.22 / 0.11), 9); // same arcsec per screen pixel
  });

  it("keeps the field of view across a resize", () => {
    const { state } = setup();
    state.readView(same);
    expect(state.resize({ width: 300, height: 200, dpr: 1 })).toBe(false);
    expect(state.resize({ width: 600, height: 400, dpr: 2 })).toBe(true);
    expect(state.view!.zoom).toBeCloseTo(400 / 600, 12);
  });

  it("reads displays, with the theme's NaN colour, and a new version per read", () => {
    const { model, state } = setup();
    model.set("_displays", { ...model.get("_displays"), b: displayTrait(5, 7) });
    state.readDisplays();
    const v1 = state.displays.get("b")!.version;
    expect(state.displays.get("b")).toMatchObject({ vmin: 5, vmax: 7, nan: state.background });
    state.readDisplays();
    expect(state.displays.get("b")!.version).toBeGreaterThan(v1);
  });

  it("writes nothing after its view ended", () => {
    const { model, state, ctl } = setup();
    state.readView(same);
    state.pushView();
    ctl.abort();
    vi.advanceTimersByTime(500);
    expect(model.saves).toBe(0);
  });
});
