// @vitest-environment jsdom
// Telemetry is written only when the page asks for it; otherwise nothing is computed or written.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Telemetry, telemetryEnabled } from "../src/telemetry";

afterEach(() => {
  delete (globalThis as { snapscopeTelemetry?: unknown }).snapscopeTelemetry;
});

describe("telemetry", () => {
  it("is off unless the page sets globalThis.snapscopeTelemetry = true", () => {
    expect(telemetryEnabled()).toBe(false);
    (globalThis as { snapscopeTelemetry?: unknown }).snapscopeTelemetry = "yes";
    expect(telemetryEnabled()).toBe(false);
    (globalThis as { snapscopeTelemetry?: unknown }).snapscopeTelemetry = true;
    expect(telemetryEnabled()).toBe(true);
    expect(new Telemetry(document.createElement("div")).enabled).toBe(true);
  });

  it("off: writes nothing and does not compute the fields", () => {
    const el = document.createElement("div");
    const t = new Telemetry(el, false);
    const fields = vi.fn(() => ({ drawn: 3 }));
    t.write(fields);
    t.count("frames");
    t.stamp("readyAt");
    t.start("edit");
    expect(t.lap("edit", "editToFrameMs")).toBe(false);
    expect(fields).not.toHaveBeenCalled();
    expect({ ...el.dataset }).toEqual({});
  });

  it("on: fields, counters, stamps and laps as data attributes", () => {
    const el = document.createElement("div");
    const t = new Telemetry(el, true);
    t.write(() => ({ drawn: 3, view: "{}", crosshair: "1,2" }));
    t.write(() => ({ crosshair: null }));
    t.count("frames");
    t.count("frames");
    const before = performance.timeOrigin + performance.now();
    t.stamp("firstPicture", true);
    const first = el.dataset.firstPicture;
    t.stamp("firstPicture", true);
    expect(el.dataset.firstPicture).toBe(first);
    expect(Number(first)).toBeGreaterThanOrEqual(before);
    expect(t.lap("edit", "editToFrameMs")).toBe(false); // not started
    t.start("edit");
    expect(t.lap("edit", "editToFrameMs")).toBe(true);
    expect(t.lap("edit", "editToFrameMs")).toBe(false); // once per start
    expect(Number(el.dataset.editToFrameMs)).toBeGreaterThanOrEqual(0);
    expect(el.dataset).toMatchObject({ drawn: "3", view: "{}", frames: "2" });
    expect("crosshair" in el.dataset).toBe(false);
  });
});
