// DataTable view (twin: src/snapscope/widgets/_views.py `DataTable`). A plain view of Python
// state: the rows arrive as display strings, sorting and paging happen in Python. Clicking a
// header asks for a sort (trait `sort`); clicking a row selects it (shift: range, ctrl/cmd:
// toggle; trait `selected`); `highlighted` (set by Python, e.g. from a light-curve hover) marks
// one row and scrolls to it.
import type { Render } from "@anywidget/types";
import { mountView, redrawOnChange } from "./linkedView";

export interface Column {
  name: string;
  label: string;
  numeric?: boolean;
  /** false: the header does not sort. */
  sortable?: boolean;
  title?: string;
}

/** `{}` until a header is clicked. */
export type Sort = { column?: string; descending?: boolean };

export interface DataTableTraits {
  columns: Column[];
  rows: string[][];
  selected: number[];
  highlighted: number;
  sort: Sort;
  height: string;
  empty_text: string;
}

const TRAITS = ["columns", "rows", "selected", "highlighted", "sort", "height", "empty_text"] as const;

/** Modifier keys of a click. */
export type Modifiers = Pick<MouseEvent, "shiftKey" | "ctrlKey" | "metaKey">;

/**
 * The selection after a click on row `i`: shift selects the range from the anchor (the last row
 * clicked without shift), ctrl/cmd toggles `i`, a plain click selects `i` alone.
 */
export function clickSelection(
  selected: readonly number[], anchor: number | null, i: number, mods: Modifiers,
): { selected: number[]; anchor: number | null } {
  if (mods.shiftKey && anchor !== null) {
    const out: number[] = [];
    for (let k = Math.min(anchor, i); k <= Math.max(anchor, i); k++) out.push(k);
    return { selected: out, anchor };
  }
  if (mods.ctrlKey || mods.metaKey) {
    return { selected: selected.includes(i) ? selected.filter((k) => k !== i) : [...selected, i], anchor: i };
  }
  return { selected: [i], anchor: i };
}

/** The sort after a click on the header of `column`: ascending first, then flipping. */
export function clickSort(sort: Sort, column: string): Required<Sort> {
  return { column, descending: sort.column === column ? !sort.descending : false };
}

const render: Render<DataTableTraits> = (props) => {
  const { model } = props;
  const { root, signal, end } = mountView(props, "snapscope-table");
  let anchor: number | null = null;

  const select = (i: number, mods: Modifiers) => {
    const next = clickSelection(model.get("selected"), anchor, i, mods);
    anchor = next.anchor;
    model.set("selected", next.selected);
    model.save_changes();
  };
  const sortBy = (column: string) => {
    model.set("sort", clickSort(model.get("sort") ?? {}, column));
    model.save_changes();
  };

  const draw = () => {
    const columns = model.get("columns");
    const rows = model.get("rows");
    const selected = new Set(model.get("selected"));
    const highlighted = model.get("highlighted");
    const sort = model.get("sort") ?? {};
    root.style.maxHeight = model.get("height");
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const col of columns) {
      const th = document.createElement("th");
      th.dataset.column = col.name;
      const arrow = sort.column === col.name ? (sort.descending ? " ▼" : " ▲") : "";
      th.textContent = col.label + arrow;
      th.title = col.title || `sort by ${col.label}`;
      if (col.sortable !== false) th.addEventListener("click", () => sortBy(col.name));
      head.append(th);
    }
    const body = table.createTBody();
    rows.forEach((values, i) => {
      const tr = body.insertRow();
      tr.dataset.row = String(i);
      if (selected.has(i)) tr.classList.add("selected");
      if (i === highlighted) tr.classList.add("highlighted");
      values.forEach((v, j) => {
        const td = tr.insertCell();
        td.textContent = v;
        td.className = columns[j]?.numeric ? "num" : "";
      });
      tr.addEventListener("click", (event) => select(i, event));
    });
    if (!rows.length) {
      const td = body.insertRow().insertCell();
      td.colSpan = Math.max(columns.length, 1);
      td.className = "empty";
      td.textContent = model.get("empty_text");
    }
    root.replaceChildren(table);
    root.querySelector("tr.highlighted")?.scrollIntoView({ block: "nearest" });
    root.dataset.rows = String(rows.length);
    root.dataset.selected = JSON.stringify([...selected]);
    root.dataset.highlighted = String(highlighted);
  };

  redrawOnChange(model, TRAITS, draw, signal);
  return end;
};

export default { render };
