// @vitest-environment jsdom
// The Thumbnails view: PNGs as object URLs (revoked when redrawn or ended), failed thumbnails,
// click -> `selected` + a click message, columns and highlight.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import view, { type ThumbnailsTraits } from "../src/views/thumbnails";
import { renderView, settle } from "./support/fakeModel";

let live: Set<string>;

beforeEach(() => {
  live = new Set();
  let n = 0;
  vi.stubGlobal("URL", Object.assign(Object.create(URL), {
    createObjectURL: (blob: Blob) => { const u = `blob:${n++}:${blob.type}:${blob.size}`; live.add(u); return u; },
    revokeObjectURL: (u: string) => live.delete(u),
  }));
  Element.prototype.scrollIntoView = function (this: Element) {
    this.setAttribute("data-scrolled", "1");
  };
});
afterEach(() => vi.unstubAllGlobals());

const png = (n: number) => new DataView(new Uint8Array(n).fill(7).buffer);

function traits(patch: Partial<ThumbnailsTraits> = {}): ThumbnailsTraits {
  return {
    items: [{ caption: "a\n60000" }, { caption: "b", title: "J129", error: "outside" }, { caption: "c" }],
    images: [png(10), new DataView(new ArrayBuffer(0)), png(20)],
    thumb_px: 64, selected: -1, highlighted: -1, height: "300px", columns: 0, ...patch,
  };
}

function mount(t: ThumbnailsTraits) {
  const v = renderView(view, t, "snapscope-thumbs");
  return { ...v, cells: () => [...v.root.querySelectorAll<HTMLElement>(".snapscope-thumb")] };
}

describe("Thumbnails view", () => {
  it("draws each PNG at thumb_px with its caption, and a box with the error for a missing one", () => {
    const { root, cells } = mount(traits({ selected: 2, highlighted: 0 }));
    const imgs = root.querySelectorAll("img");
    expect([...imgs].map((i) => [i.getAttribute("src"), i.width, i.height])).toEqual([
      ["blob:0:image/png:10", 64, 64], ["blob:1:image/png:20", 64, 64],
    ]);
    const failed = cells()[1].querySelector(".failed") as HTMLElement;
    expect([failed.textContent, failed.style.width, cells()[1].title]).toEqual(["outside", "64px", "J129"]);
    expect(cells().map((c) => c.querySelector(".caption")?.textContent)).toEqual(["a\n60000", "b", "c"]);
    expect(cells()[2].classList.contains("selected")).toBe(true);
    expect(cells()[0].dataset.scrolled).toBe("1");
    expect(root.dataset).toMatchObject({ count: "3", loaded: "2", highlighted: "0" });
    expect(root.classList.contains("columns")).toBe(false);
  });

  it("a click selects the thumbnail, saves it and sends {kind: 'click', index}", () => {
    const { model, cells } = mount(traits());
    cells()[2].click();
    expect(model.get("selected")).toBe(2);
    expect(model.saves).toBe(1);
    expect(model.sent).toEqual([{ kind: "click", index: 2 }]);
  });

  it("lays out `columns` per row", async () => {
    const { model, root } = mount(traits());
    model.update({ columns: 3 });
    await settle();
    expect(root.classList.contains("columns")).toBe(true);
    expect(root.style.gridTemplateColumns).toBe("repeat(3, max-content)");
  });

  it("revokes the object URLs of a redrawn grid and of an ended view", async () => {
    const { model, end, el } = mount(traits());
    expect(live.size).toBe(2);
    model.update({ images: [png(5), png(6), png(7)], thumb_px: 32 });
    await settle();
    expect([...live].sort()).toEqual(["blob:2:image/png:5", "blob:3:image/png:6", "blob:4:image/png:7"]);
    model.update({ thumb_px: 16 }); // a redraw queued, then the view ends: it must not run
    end();
    await settle();
    expect(live.size).toBe(0);
    expect(model.listeners()).toBe(0);
    expect(el.children.length).toBe(0);
  });
});
