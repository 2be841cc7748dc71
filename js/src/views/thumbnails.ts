// Thumbnails view (twin: src/snapscope/widgets/_views.py `Thumbnails`): a wrapping grid of small
// PNGs rendered in Python with one shared stretch, a caption under each. A click selects the
// thumbnail (trait `selected`) and sends `{kind: "click", index}`; `highlighted` (set by Python)
// marks one and scrolls to it; `columns` > 0 lays them out in rows of that many (e.g. science /
// reference / difference).
import type { Render } from "@anywidget/types";
import { MSG_CLICK } from "../protocol";
import { mountView, redrawOnChange } from "./linkedView";

export interface ThumbnailItem {
  caption: string;
  title?: string;
  /** Why the thumbnail failed (shown in its place). */
  error?: string;
}

export interface ThumbnailsTraits {
  items: ThumbnailItem[];
  /** PNG bytes per thumbnail (empty while not loaded or when it failed). */
  images: DataView[];
  thumb_px: number;
  selected: number;
  highlighted: number;
  height: string;
  columns: number;
}

/** The message a click sends to Python. */
export interface ThumbnailClickMsg {
  kind: typeof MSG_CLICK;
  index: number;
}

const TRAITS = ["items", "images", "thumb_px", "selected", "highlighted", "height", "columns"] as const;

/** One thumbnail's picture (an <img> of `url`), or its error text in a box when it has no PNG. */
function picture(url: string | null, px: number, item: ThumbnailItem): HTMLElement {
  if (url) return Object.assign(document.createElement("img"), { src: url, width: px, height: px });
  const box = Object.assign(document.createElement("div"), { className: "failed", textContent: item.error || "…" });
  box.style.width = box.style.height = `${px}px`;
  return box;
}

const render: Render<ThumbnailsTraits> = (props) => {
  const { model } = props;
  const { root, signal, end } = mountView(props, "snapscope-thumbs");
  let urls: string[] = [];
  const revoke = () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
  };
  signal.addEventListener("abort", revoke, { once: true });

  const click = (i: number) => {
    model.set("selected", i);
    model.save_changes();
    model.send({ kind: MSG_CLICK, index: i } satisfies ThumbnailClickMsg);
  };

  const draw = () => {
    revoke();
    const items = model.get("items");
    const images = model.get("images");
    const px = model.get("thumb_px");
    const selected = model.get("selected");
    const highlighted = model.get("highlighted");
    const columns = model.get("columns");
    root.style.maxHeight = model.get("height");
    root.classList.toggle("columns", columns > 0);
    root.style.gridTemplateColumns = columns > 0 ? `repeat(${columns}, max-content)` : "";
    const cells = items.map((item, i) => {
      const cell = Object.assign(document.createElement("div"), { className: "snapscope-thumb", title: item.title || "" });
      cell.dataset.index = String(i);
      if (i === selected) cell.classList.add("selected");
      if (i === highlighted) cell.classList.add("highlighted");
      const png = images[i];
      const url = png?.byteLength ? URL.createObjectURL(new Blob([png as DataView<ArrayBuffer>], { type: "image/png" })) : null;
      if (url) urls.push(url);
      const caption = Object.assign(document.createElement("div"), { className: "caption", textContent: item.caption });
      cell.append(picture(url, px, item), caption);
      cell.addEventListener("click", () => click(i));
      return cell;
    });
    root.replaceChildren(...cells);
    root.dataset.count = String(items.length);
    root.dataset.loaded = String(images.filter((b) => b?.byteLength).length);
    root.dataset.highlighted = String(highlighted);
    root.querySelector(".snapscope-thumb.highlighted")?.scrollIntoView({ block: "nearest" });
  };

  redrawOnChange(model, TRAITS, draw, signal);
  return end;
};

export default { render };
