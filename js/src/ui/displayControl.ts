// The display control: a row under the toolbar (opened by its "Display" button or the d key)
// with percentile or typed cuts, stretch, colormap and invert. It holds no state of its own:
// `update` shows a display trait, and each user change becomes one DisplayEdit for the viewer,
// which applies it in the browser and writes it back to the `_displays` trait.
import type { DisplayTrait } from "../model";
import { CUT_PERCENTILES, type CutsSpec } from "./cuts";
import { controlValues, STRETCH_CHOICES, type DisplayEdit } from "./displayState";
import { element } from "./dom";

/** Text of a limit in its input: 6 significant digits (the exact value is kept while unedited). */
function limitText(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = element("label");
  label.append(text, control);
  return label;
}

function option(value: string, text = value, disabled = false): HTMLOptionElement {
  return element("option", { value, textContent: text, disabled });
}

function customCutsText(spec: CutsSpec | undefined): string {
  if (!spec) return "—";
  if (spec.kind === "percentile") return `${spec.lower}–${spec.upper} %`;
  return spec.kind === "manual" ? "manual" : spec.name;
}

export class DisplayControl {
  readonly cuts = element("select", { title: "Cuts: percentile of the pixel values, or typed limits" });
  readonly vmin = element("input", { type: "number", step: "any", title: "Lower cut (data units)" });
  readonly vmax = element("input", { type: "number", step: "any", title: "Upper cut (data units)" });
  readonly stretch = element("select", { title: "Stretch" });
  readonly cmap = element("select", { title: "Colormap" });
  readonly invert = element("input", { type: "checkbox", title: "Reverse the colormap" });
  private custom = option("custom", "custom", true);
  private limits: [number, number] = [0, 1];

  constructor(readonly el: HTMLElement, private edit: (e: DisplayEdit) => void, signal: AbortSignal) {
    this.cuts.append(...CUT_PERCENTILES.map((p) => option(String(p), p === 100 ? "min/max" : `${p} %`)), this.custom);
    this.stretch.append(...Object.keys(STRETCH_CHOICES).map((n) => option(n)));
    el.append(
      labelled("Cuts", this.cuts),
      labelled("min", this.vmin),
      labelled("max", this.vmax),
      labelled("Stretch", this.stretch),
      labelled("Colormap", this.cmap),
      labelled("Invert", this.invert),
    );
    el.hidden = true;
    const o = { signal };
    this.cuts.addEventListener("change", () => {
      if (this.cuts.value !== "custom") this.edit({ kind: "percentile", percentile: Number(this.cuts.value) });
    }, o);
    for (const input of [this.vmin, this.vmax]) input.addEventListener("change", () => this.typedLimits(), o);
    this.stretch.addEventListener("change", () => this.edit({ kind: "stretch", name: this.stretch.value }), o);
    this.cmap.addEventListener("change", () => this.edit({ kind: "cmap", name: this.cmap.value }), o);
    this.invert.addEventListener("change", () => this.edit({ kind: "invert", inverted: this.invert.checked }), o);
  }

  get open(): boolean {
    return !this.el.hidden;
  }

  toggle(open = !this.open): boolean {
    this.el.hidden = !open;
    return open;
  }

  /** A typed limit: the other keeps its exact value unless it was edited too. */
  private typedLimits(): void {
    const read = (input: HTMLInputElement, exact: number) =>
      input.value === limitText(exact) ? exact : input.valueAsNumber;
    const vmin = read(this.vmin, this.limits[0]);
    const vmax = read(this.vmax, this.limits[1]);
    const ok = Number.isFinite(vmin) && Number.isFinite(vmax) && vmax > vmin;
    for (const input of [this.vmin, this.vmax]) input.setAttribute("aria-invalid", String(!ok));
    if (ok) this.edit({ kind: "limits", vmin, vmax });
  }

  /** Show a display (undefined: no image). `colormaps` are the names the control offers. */
  update(d: DisplayTrait | undefined, colormaps: string[]): void {
    for (const c of [this.cuts, this.vmin, this.vmax, this.stretch, this.cmap, this.invert]) c.disabled = !d;
    if (!d) return;
    const v = controlValues(d);
    this.limits = [v.vmin, v.vmax];
    this.custom.hidden = v.preset !== null;
    this.custom.textContent = customCutsText(d.cuts);
    this.cuts.value = v.preset === null ? "custom" : String(v.preset);
    for (const [input, value] of [[this.vmin, v.vmin], [this.vmax, v.vmax]] as const) {
      // Leave a limit being typed alone.
      if (input !== document.activeElement) input.value = limitText(value);
      input.removeAttribute("aria-invalid");
    }
    if (!this.stretch.querySelector(`option[value="${CSS.escape(v.stretch)}"]`)) {
      this.stretch.append(option(v.stretch, `${v.stretch} (from Python)`, true));
    }
    this.stretch.value = v.stretch;
    const names = colormaps.includes(v.cmap) ? colormaps : [...colormaps, v.cmap];
    if ([...this.cmap.options].map((o) => o.value).join() !== names.join()) {
      this.cmap.replaceChildren(...names.map((n) => option(n)));
    }
    this.cmap.value = v.cmap;
    this.invert.checked = v.inverted;
  }
}
