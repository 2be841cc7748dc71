// Tiles from the kernel into the cache: replies with one buffer, error replies, the `_overview`
// trait, and messages the view cannot read (shown to the user and thrown).
import { describe, expect, it } from "vitest";
import { MSG_ERROR, PLANE_DATA } from "../src/protocol";
import { Telemetry } from "../src/telemetry";
import { TileCache } from "../src/tiles/cache";
import { Scheduler } from "../src/tiles/scheduler";
import { TileIntake } from "../src/viewer/intake";
import { imageModel, imageTrait, overviewOf, tileReply } from "./support/imageModel";

function setup() {
  const img = imageTrait("a", 200, 100, 64);
  const model = imageModel(img);
  const cache = new TileCache();
  const sched = new Scheduler((m) => model.send(m));
  const events = { stored: 0, errors: [] as string[] };
  const el = { dataset: {} } as HTMLElement;
  const ctl = new AbortController();
  new TileIntake(model, cache, sched, { stored: () => events.stored++, error: (t) => events.errors.push(t) }, new Telemetry(el, true), ctl.signal);
  return { img, model, cache, sched, events, el, ctl };
}

describe("tile intake", () => {
  it("caches a requested tile, resolves its request and counts it", () => {
    const { model, cache, sched, events, el } = setup();
    const addr = { key: "a", plane: PLANE_DATA, level: 0, tx: 1, ty: 0 } as const;
    sched.update([addr], (a) => cache.has(a));
    expect(sched.inflight).toBe(1);
    const [msg, buffer] = tileReply(addr, [64, 64], 42);
    model.message(msg, [buffer]);
    expect(sched.inflight).toBe(0);
    expect(cache.peek(addr)?.values[0]).toBe(42);
    expect([events.stored, el.dataset.received]).toEqual([1, "1"]);
  });

  it("does not cache a tile of an image no longer loaded", () => {
    const { model, cache, events } = setup();
    const addr = { key: "gone", plane: PLANE_DATA, level: 0, tx: 0, ty: 0 } as const;
    const [msg, buffer] = tileReply(addr, [8, 8]);
    model.message(msg, [buffer]);
    expect([cache.has(addr), events.stored]).toEqual([false, 0]);
  });

  it("takes the overview tile of the `_overview` trait once", () => {
    const { img, model, cache, events } = setup();
    const [msg, buffer] = tileReply(overviewOf(img), [25, 50], 7);
    model.set("_overview", { ...msg, buffer });
    const intake = new TileIntake(model, cache, new Scheduler(() => {}), { stored: () => events.stored++, error: () => {} }, new Telemetry({ dataset: {} } as HTMLElement, false), new AbortController().signal);
    intake.takeOverview();
    intake.takeOverview();
    expect(cache.peek(overviewOf(img))?.values[0]).toBe(7);
    expect(events.stored).toBe(1);
  });

  it("an error reply fails its request (not asked again at once) and shows its last line", () => {
    const { model, cache, sched, events } = setup();
    const addr = { key: "a", plane: PLANE_DATA, level: 0, tx: 0, ty: 0 } as const;
    sched.update([addr], (a) => cache.has(a));
    model.message({ kind: MSG_ERROR, id: 1, error: "Traceback ...\nProtocolError: level 9 does not exist\n" });
    expect(events.errors).toEqual(["ProtocolError: level 9 does not exist"]);
    sched.update([addr], (a) => cache.has(a));
    expect(sched.stats.requested).toBe(1);
  });

  it("shows and throws an unknown kind and a tile reply without its one buffer", () => {
    const { model, events } = setup();
    expect(() => model.message({ kind: "tiles", id: 1 })).toThrow('unknown message kind "tiles"');
    const [msg] = tileReply({ key: "a", plane: PLANE_DATA, level: 0, tx: 0, ty: 0 }, [8, 8]);
    expect(() => model.message(msg, [])).toThrow("a tile reply needs one buffer, got 0");
    expect(events.errors).toEqual(['snapscope: unknown message kind "tiles" (with 0 buffers)', "snapscope: a tile reply needs one buffer, got 0"]);
  });

  it("stops listening when its view ends", () => {
    const { model, ctl } = setup();
    ctl.abort();
    expect(model.listeners("msg:custom")).toBe(0);
  });
});
