// @vitest-environment jsdom
// A whole view in jsdom (canvas 2D stand-in): its telemetry is written only when the page asks
// for it, a message it cannot read is shown and thrown, and its end removes what it added.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Traits } from "../src/model";
import { Viewer } from "../src/viewer/viewer";
import { browserGaps } from "./support/canvas";
import type { FakeModel } from "./support/fakeModel";
import { imageModel, imageTrait, overviewOf, tileReply } from "./support/imageModel";

beforeEach(browserGaps);
/** The views of a test, ended after it (before the stand-ins go). */
const views: AbortController[] = [];
afterEach(() => {
  for (const ctl of views.splice(0)) ctl.abort();
  vi.unstubAllGlobals();
  delete (globalThis as { snapscopeTelemetry?: unknown }).snapscopeTelemetry;
});

/** A model whose `_overview` holds the overview tile of its one image. */
function model(): FakeModel<Traits> {
  const img = imageTrait("a", 256, 128, 64);
  const m = imageModel(img);
  const [msg, buffer] = tileReply(overviewOf(img), [32, 64]);
  m.set("_overview", { ...msg, buffer });
  return m;
}

/** Resolve after `n` animation frames. */
async function frames(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => requestAnimationFrame(r));
}

function render(m: FakeModel<Traits>) {
  const el = document.createElement("div");
  document.body.append(el);
  const ctl = new AbortController();
  views.push(ctl);
  const viewer = new Viewer(m, el, ctl.signal);
  return { el, ctl, viewer, root: viewer.dom.root };
}

describe("viewer", () => {
  it("writes no telemetry when the page did not ask for it", async () => {
    const { root, viewer } = render(model());
    viewer.request();
    await frames(2);
    expect(root.querySelector(".snapscope-label")?.textContent).toBe("a");
    expect({ ...root.dataset }).toEqual({ renderer: "canvas" });
  });

  it("writes its counters, clocks and view with globalThis.snapscopeTelemetry = true", async () => {
    (globalThis as { snapscopeTelemetry?: unknown }).snapscopeTelemetry = true;
    const { root } = render(model());
    await frames(2);
    const ds = root.dataset;
    expect(Number(ds.frames)).toBeGreaterThanOrEqual(1);
    expect([ds.drawn, ds.received, ds.missing]).toEqual(["1", "1", "0"]);
    expect(Number(ds.firstPicture)).toBeGreaterThanOrEqual(Number(ds.readyAt));
    expect(JSON.parse(ds.view ?? "")).toMatchObject({ key: "a", cx: 127.5, cy: 63.5 });
    expect(Number(ds.displayToFrameMs)).toBeGreaterThanOrEqual(0);
  });

  it("shows a message of an unknown kind and throws it", () => {
    const m = model();
    const { viewer } = render(m);
    expect(() => m.message({ kind: "tiles", id: 3 })).toThrow('unknown message kind "tiles"');
    expect(viewer.dom.error.textContent).toContain('unknown message kind "tiles"');
  });

  it("ends cleanly: no listener, no element, no frame left", async () => {
    const m = model();
    const { ctl, el, viewer } = render(m);
    viewer.request();
    ctl.abort();
    await frames(2);
    expect(m.listeners()).toBe(0);
    expect(el.children.length).toBe(0);
  });
});
