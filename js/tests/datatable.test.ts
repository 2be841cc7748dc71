// @vitest-environment jsdom
// The DataTable view: selection and sort rules, and the table it draws from the traits (what
// every linked view does around that is tested in linkedView.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import view, { clickSelection, clickSort, type DataTableTraits } from "../src/views/datatable";
import { renderView, settle } from "./support/fakeModel";

beforeAll(() => {
  // jsdom has no layout: record scrolls instead.
  Element.prototype.scrollIntoView = function (this: Element) {
    this.setAttribute("data-scrolled", "1");
  };
});

const NONE = { shiftKey: false, ctrlKey: false, metaKey: false };

function traits(patch: Partial<DataTableTraits> = {}): DataTableTraits {
  return {
    columns: [{ name: "mjd", label: "MJD", numeric: true }, { name: "band", label: "Band", sortable: false, title: "filter" }],
    rows: [["60000.1", "Y106"], ["60001.2", "J129"], ["60002.3", "H158"], ["60003.4", "F184"]],
    selected: [], highlighted: -1, sort: {}, height: "200px", empty_text: "no rows", ...patch,
  };
}

function mount(t: DataTableTraits) {
  const v = renderView(view, t, "snapscope-table");
  return { ...v, rows: () => [...v.root.querySelectorAll<HTMLTableRowElement>("tbody tr[data-row]")] };
}

describe("selection and sort rules", () => {
  it("a plain click selects one row and sets the anchor", () => {
    expect(clickSelection([0, 2], 0, 3, NONE)).toEqual({ selected: [3], anchor: 3 });
  });
  it("shift selects the range from the anchor, either way, keeping the anchor", () => {
    expect(clickSelection([1], 1, 3, { ...NONE, shiftKey: true })).toEqual({ selected: [1, 2, 3], anchor: 1 });
    expect(clickSelection([3], 3, 0, { ...NONE, shiftKey: true })).toEqual({ selected: [0, 1, 2, 3], anchor: 3 });
    expect(clickSelection([], null, 2, { ...NONE, shiftKey: true })).toEqual({ selected: [2], anchor: 2 });
  });
  it("ctrl or cmd toggles a row", () => {
    expect(clickSelection([1], 1, 3, { ...NONE, ctrlKey: true })).toEqual({ selected: [1, 3], anchor: 3 });
    expect(clickSelection([1, 3], 3, 1, { ...NONE, metaKey: true })).toEqual({ selected: [3], anchor: 1 });
  });
  it("a header sorts ascending first, then flips", () => {
    expect(clickSort({}, "mjd")).toEqual({ column: "mjd", descending: false });
    expect(clickSort({ column: "mjd", descending: false }, "mjd")).toEqual({ column: "mjd", descending: true });
    expect(clickSort({ column: "mjd", descending: true }, "band")).toEqual({ column: "band", descending: false });
  });
});

describe("DataTable view", () => {
  it("draws headers, display strings, selection and the highlighted row", () => {
    const { root, rows } = mount(traits({ selected: [1], highlighted: 2, sort: { column: "mjd", descending: true } }));
    expect([...root.querySelectorAll("th")].map((th) => th.textContent)).toEqual(["MJD ▼", "Band"]);
    expect(root.querySelector("th")?.title).toBe("sort by MJD");
    expect(root.querySelectorAll("th")[1].title).toBe("filter");
    expect(rows().map((r) => [...r.cells].map((c) => c.textContent))).toEqual(traits().rows);
    expect(rows()[0].cells[0].className).toBe("num");
    expect(rows()[1].classList.contains("selected")).toBe(true);
    expect(rows()[2].classList.contains("highlighted")).toBe(true);
    expect(rows()[2].dataset.scrolled).toBe("1");
    expect(root.style.maxHeight).toBe("200px");
    expect(root.dataset).toMatchObject({ rows: "4", selected: "[1]", highlighted: "2" });
  });

  it("clicks set `selected` and `sort` and save them; an unsortable header does nothing", async () => {
    const { model, root, rows } = mount(traits());
    rows()[1].click();
    rows()[3].dispatchEvent(new MouseEvent("click", { shiftKey: true, bubbles: true }));
    expect(model.get("selected")).toEqual([1, 2, 3]);
    root.querySelectorAll("th")[1].click();
    expect(model.get("sort")).toEqual({});
    root.querySelector("th")?.click();
    expect(model.get("sort")).toEqual({ column: "mjd", descending: false });
    expect(model.saves).toBe(3);
    await settle();
    expect(rows().filter((r) => r.classList.contains("selected")).map((r) => r.dataset.row)).toEqual(["1", "2", "3"]);
    expect(root.querySelector("th")?.textContent).toBe("MJD ▲");
  });

  it("shows the empty text without rows", () => {
    const { root } = mount(traits({ rows: [], empty_text: "no match" }));
    const td = root.querySelector("td.empty") as HTMLTableCellElement;
    expect([td.textContent, td.colSpan]).toEqual(["no match", 2]);
  });
});
