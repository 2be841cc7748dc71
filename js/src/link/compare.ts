// The CompareView's own view: lays out its ImageWidget panes (each rendered by anywidget's host
// into a slot, with its own model, tiles and Viewer) in a grid or a row, and blinks them: the
// `b` key or the Blink button stacks every pane in the first slot and shows one at a time. The
// panes keep drawing while hidden (visibility, not display: their size and tiles stay), so a
// switch is one style change, seen in the next frame, with nothing asked of the kernel.
import type { AnyModel, Host } from "@anywidget/types";
import type { LinkTrait } from "../model";
import { element } from "../ui/dom";
import { LinkGroup, type LinkMember, type LinkMsg } from "./group";

export interface CompareTraits {
  /** "anywidget:<model id>" of each pane's ImageWidget. */
  _panes: string[];
  _labels: string[];
  _arrangement: "grid" | "row";
  /** The panes' link group (blink messages reach this view through it). */
  _link: LinkTrait | null;
}

const CSS = `
.snapscope-compare { display: flex; flex-direction: column; gap: 4px; outline: none;
  font: 12px var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222); }
.snapscope-compare-bar { display: flex; gap: 4px; align-items: center; }
.snapscope-compare-bar button { font: inherit; padding: 1px 8px; cursor: pointer;
  color: var(--jp-ui-font-color1, #222); background: var(--jp-layout-color2, #eee);
  border: 1px solid var(--jp-border-color1, #bbb); border-radius: 2px; }
.snapscope-compare-grid { display: grid; gap: 6px; }
.snapscope-compare-slot { min-width: 0; }
.snapscope-compare.blinking .snapscope-compare-slot { grid-area: 1 / 1; }
`;

/** Columns of the layout: every pane in one row, or a near-square grid. */
export function columns(n: number, arrangement: string): number {
  return arrangement === "row" ? n : Math.ceil(Math.sqrt(n));
}

class CompareLayout implements LinkMember {
  readonly root: HTMLElement;
  private slots: HTMLElement[] = [];
  private shown = -1;
  private state: HTMLElement;

  constructor(private model: AnyModel<CompareTraits>, el: HTMLElement, signal: AbortSignal) {
    this.root = element("div", { className: "snapscope-compare", tabIndex: 0 });
    const bar = element("div", { className: "snapscope-compare-bar" });
    const blink = element("button", { type: "button", textContent: "Blink", title: "Show the panes one at a time in one slot (b)" });
    const all = element("button", { type: "button", textContent: "All", title: "Show every pane (Escape)" });
    this.state = element("span", { className: "snapscope-compare-state" });
    bar.append(blink, all, this.state);
    const grid = element("div", { className: "snapscope-compare-grid" });
    const n = model.get("_panes").length;
    grid.style.gridTemplateColumns = `repeat(${columns(n, model.get("_arrangement"))}, minmax(0, 1fr))`;
    for (let i = 0; i < n; i++) {
      const slot = element("div", { className: "snapscope-compare-slot" });
      slot.dataset.pane = String(i);
      this.slots.push(slot);
    }
    grid.append(...this.slots);
    this.root.append(element("style", { textContent: CSS }), bar, grid);
    el.append(this.root);
    const o = { signal };
    blink.addEventListener("click", () => this.blink(), o);
    all.addEventListener("click", () => this.tile(), o);
    this.root.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "b") this.blink();
      else if (e.key === "Escape") this.tile();
      else return;
      e.preventDefault();
      e.stopPropagation();
    }, o);
    const group = model.get("_link")?.group;
    if (group) LinkGroup.join(group, this, signal);
    signal.addEventListener("abort", () => this.root.remove(), { once: true });
  }

  slot(i: number): HTMLElement {
    return this.slots[i];
  }

  receive(msg: LinkMsg): boolean {
    if (msg.kind !== "blink") return false;
    this.blink();
    return true;
  }

  /** Show the next pane alone in the first slot. */
  blink(): void {
    this.show((this.shown + 1) % this.slots.length);
  }

  /** Back to every pane in its own slot. */
  tile(): void {
    this.show(-1);
  }

  private show(i: number): void {
    this.shown = i;
    this.root.classList.toggle("blinking", i >= 0);
    this.slots.forEach((s, k) => (s.style.visibility = i < 0 || k === i ? "" : "hidden"));
    this.root.dataset.shown = String(i);
    this.state.textContent = i < 0 ? "" : `blink: ${this.model.get("_labels")[i] ?? i} (${i + 1}/${this.slots.length})`;
    // The shown pane takes the keyboard, so `b` goes on blinking from it.
    if (i >= 0) this.slots[i].querySelector<HTMLElement>(".snapscope-viewer")?.focus({ preventScroll: true });
  }
}

/** render() of a CompareView: the layout, then every pane rendered by its own widget. */
export async function renderCompare(model: AnyModel<CompareTraits>, el: HTMLElement, signal: AbortSignal, host: Host): Promise<void> {
  const layout = new CompareLayout(model, el, signal);
  await Promise.all(model.get("_panes").map(async (ref, i) => {
    const pane = await host.getWidget(ref);
    await pane.render({ el: layout.slot(i), signal });
  }));
  layout.root.dataset.ready = "1";
}
