// Custom messages from the kernel: one handler per kind, and an unknown kind is an error that
// is shown (reported) and thrown, never dropped, as Python does with the browser's messages.
import { describe, expect, it } from "vitest";
import { listen, route, UnknownMessageError } from "../src/messages";
import { FakeModel } from "./support/fakeModel";

describe("message routing", () => {
  it("calls the handler of the message's kind with its buffers", () => {
    const got: unknown[] = [];
    const buffer = new DataView(new ArrayBuffer(4));
    route({ tile: (m, b) => got.push(["tile", m.id, b]), error: () => got.push("error") }, { kind: "tile", id: 3 }, [buffer]);
    expect(got).toEqual([["tile", 3, [buffer]]]);
  });

  it.each([
    [{ kind: "scroll" }, '"scroll"'],
    [{ kind: "toString" }, '"toString"'], // inherited names are not handlers
    [{ id: 1 }, "undefined"],
    [null, "undefined"],
    [{ kind: 7 }, "7"],
  ])("throws on an unknown kind: %j", (msg, shown) => {
    expect(() => route({ tile: () => {} }, msg)).toThrow(UnknownMessageError);
    expect(() => route({ tile: () => {} }, msg)).toThrow(`unknown message kind ${shown}`);
  });

  it("reports an unknown kind, throws it on, and stops listening when the signal aborts", () => {
    const model = new FakeModel({});
    const reported: string[] = [];
    const seen: number[] = [];
    const ctl = new AbortController();
    listen(model, { tile: (m) => seen.push(m.id) }, (err) => reported.push(err.message), ctl.signal);
    model.message({ kind: "tile", id: 1 });
    expect(() => model.message({ kind: "bogus" }, [new DataView(new ArrayBuffer(2))])).toThrow(UnknownMessageError);
    expect(reported).toEqual(['snapscope: unknown message kind "bogus" (with 1 buffers)']);
    ctl.abort();
    expect(model.listeners("msg:custom")).toBe(0);
    model.message({ kind: "tile", id: 2 });
    expect(seen).toEqual([1]);
  });

  it("reports what a handler throws too", () => {
    const model = new FakeModel({});
    const reported: string[] = [];
    listen(model, { tile: () => { throw new Error("bad tile"); } }, (err) => reported.push(err.message), new AbortController().signal);
    expect(() => model.message({ kind: "tile" })).toThrow("bad tile");
    expect(reported).toEqual(["bad tile"]);
  });
});
