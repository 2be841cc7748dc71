// Thumbnails view (twin: _thumbnails.py): a wrapping grid of small PNGs rendered in Python with
// one shared stretch, a caption under each. A click sends {kind: "click", index} and selects the
// thumbnail (trait `selected`); `highlighted` (set by Python) marks one and scrolls to it;
// `columns` > 0 lays them out in rows of that many (e.g. science / reference / difference).

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "snapscope-thumbs";
  el.appendChild(root);
  let urls = [];

  function draw() {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    const items = model.get("items");
    const images = model.get("images");
    const px = model.get("thumb_px");
    const selected = model.get("selected");
    const highlighted = model.get("highlighted");
    root.style.maxHeight = model.get("height");
    const columns = model.get("columns");
    root.classList.toggle("columns", columns > 0);
    root.style.gridTemplateColumns = columns > 0 ? `repeat(${columns}, max-content)` : "";
    const cells = [];
    let focus = null;
    items.forEach((item, i) => {
      const cell = document.createElement("div");
      cell.className = "snapscope-thumb";
      cell.dataset.index = String(i);
      cell.title = item.title || "";
      if (i === selected) cell.classList.add("selected");
      if (i === highlighted) {
        cell.classList.add("highlighted");
        focus = cell;
      }
      const png = images[i];
      if (png && png.byteLength) {
        const img = document.createElement("img");
        const url = URL.createObjectURL(new Blob([png], { type: "image/png" }));
        urls.push(url);
        img.src = url;
        img.width = px;
        img.height = px;
        cell.appendChild(img);
      } else {
        const box = document.createElement("div");
        box.className = "failed";
        box.style.width = box.style.height = `${px}px`;
        box.textContent = item.error || "…";
        cell.appendChild(box);
      }
      const caption = document.createElement("div");
      caption.className = "caption";
      caption.textContent = item.caption;
      cell.appendChild(caption);
      cell.addEventListener("click", () => {
        model.set("selected", i);
        model.save_changes();
        model.send({ kind: "click", index: i });
      });
      cells.push(cell);
    });
    root.replaceChildren(...cells);
    root.dataset.count = String(items.length);
    root.dataset.loaded = String(images.filter((b) => b && b.byteLength).length);
    root.dataset.highlighted = String(highlighted);
    if (focus) focus.scrollIntoView({ block: "nearest" });
  }

  const stop = redrawOnChange(
    model,
    ["items", "images", "thumb_px", "selected", "highlighted", "height", "columns"],
    draw,
  );
  return () => {
    stop();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}

export default { render };
