// @vitest-environment jsdom
// What every linked view does around its drawing: one redraw per batch of trait changes, none
// after its end; a message from Python (which sends them traits only) shown and thrown; an end
// (render()'s cleanup or the host's signal) that removes exactly what the view added.
import { describe, expect, it } from "vitest";
import { mountView, redrawOnChange } from "../src/views/linkedView";
import { FakeModel, settle } from "./support/fakeModel";

const traits = () => ({ rows: [] as string[], height: "1px", other: 0 });
/** A model as a mounted view sees it (any traits). */
const anyModel = () => new FakeModel<any>(traits());

describe("redraw on change", () => {
  it("draws at once, then once per batch of changes to the traits it watches", async () => {
    const model = new FakeModel(traits());
    const ctl = new AbortController();
    let draws = 0;
    redrawOnChange(model, ["rows", "height"], () => draws++, ctl.signal);
    expect(draws).toBe(1);
    model.update({ rows: ["a"], height: "2px" });
    model.set("rows", ["b"]);
    expect(draws).toBe(1);
    await settle();
    expect(draws).toBe(2);
    model.set("other", 1);
    await settle();
    expect(draws).toBe(2);
    model.set("rows", []);
    ctl.abort();
    await settle();
    expect([draws, model.listeners()]).toEqual([2, 0]);
  });
});

describe("a mounted view", () => {
  it("has its root in the host's element and ends with render()'s cleanup", () => {
    const model = anyModel();
    const el = document.createElement("div");
    const { root, signal, end } = mountView({ model, el }, "snapscope-x");
    expect([root.parentElement, root.className]).toEqual([el, "snapscope-x"]);
    end();
    expect([signal.aborted, el.children.length, model.listeners()]).toEqual([true, 0, 0]);
  });

  it("ends with the host's signal too", () => {
    const model = anyModel();
    const host = new AbortController();
    const { signal } = mountView({ model, el: document.createElement("div"), signal: host.signal }, "snapscope-x");
    host.abort();
    expect([signal.aborted, model.listeners()]).toEqual([true, 0]);
  });

  it("shows a message from Python in its error line, and throws it", () => {
    const model = anyModel();
    const el = document.createElement("div");
    mountView({ model, el }, "snapscope-x");
    expect(() => model.message({ kind: "scroll", row: 3 })).toThrow('unknown message kind "scroll"');
    expect(() => model.message({ kind: "click" })).toThrow('unknown message kind "click"');
    const lines = el.querySelectorAll(".snapscope-view-error");
    expect(lines.length).toBe(1);
    expect(lines[0].textContent).toBe('snapscope: unknown message kind "click" (with 0 buffers)');
  });
});
