// DataTable view (twin: _datatable.py). A plain view of Python state: the rows arrive as
// display strings, sorting and paging happen in Python. Clicking a header asks for a sort
// (trait `sort`); clicking a row selects it (shift: range, ctrl/cmd: toggle; trait `selected`);
// `highlighted` (set by Python, e.g. from a light-curve hover) marks one row and scrolls to it.

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "snapscope-table";
  el.appendChild(root);
  let anchor = null;

  function select(i, event) {
    let sel = model.get("selected").slice();
    if (event.shiftKey && anchor !== null) {
      const [a, b] = [Math.min(anchor, i), Math.max(anchor, i)];
      sel = [];
      for (let k = a; k <= b; k++) sel.push(k);
    } else if (event.ctrlKey || event.metaKey) {
      sel = sel.includes(i) ? sel.filter((k) => k !== i) : sel.concat([i]);
      anchor = i;
    } else {
      sel = [i];
      anchor = i;
    }
    model.set("selected", sel);
    model.save_changes();
  }

  function sortBy(name) {
    const sort = model.get("sort") || {};
    const descending = sort.column === name ? !sort.descending : false;
    model.set("sort", { column: name, descending });
    model.save_changes();
  }

  function draw() {
    const columns = model.get("columns");
    const rows = model.get("rows");
    const selected = new Set(model.get("selected"));
    const highlighted = model.get("highlighted");
    const sort = model.get("sort") || {};
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
      head.appendChild(th);
    }
    const body = table.createTBody();
    let focus = null;
    rows.forEach((values, i) => {
      const tr = body.insertRow();
      tr.dataset.row = String(i);
      if (selected.has(i)) tr.classList.add("selected");
      if (i === highlighted) {
        tr.classList.add("highlighted");
        focus = tr;
      }
      values.forEach((v, j) => {
        const td = tr.insertCell();
        td.textContent = v;
        td.className = columns[j] && columns[j].numeric ? "num" : "";
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
    if (focus) focus.scrollIntoView({ block: "nearest" });
    root.dataset.rows = String(rows.length);
    root.dataset.selected = JSON.stringify([...selected]);
    root.dataset.highlighted = String(highlighted);
  }

  return redrawOnChange(
    model,
    ["columns", "rows", "selected", "highlighted", "sort", "height", "empty_text"],
    draw,
  );
}

export default { render };
