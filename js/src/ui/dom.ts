// The widget's DOM: toolbar, canvas stack (image + overlay), status line. Colours follow the
// JupyterLab theme (--jp-* variables) with light fallbacks for plain pages.

const CSS = `
.snapscope-viewer { display: flex; flex-direction: column; gap: 4px; outline: none;
  font: 12px var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222); }
.snapscope-viewer:focus-visible { box-shadow: 0 0 0 1px var(--jp-brand-color1, #1976d2); }
.snapscope-toolbar { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.snapscope-toolbar button { font: inherit; padding: 1px 8px; cursor: pointer;
  color: var(--jp-ui-font-color1, #222); background: var(--jp-layout-color2, #eee);
  border: 1px solid var(--jp-border-color1, #bbb); border-radius: 2px; }
.snapscope-toolbar button[aria-pressed="true"] { background: var(--jp-brand-color3, #bbdefb); }
.snapscope-label { margin-left: auto; opacity: 0.8; }
.snapscope-stage { position: relative; width: 100%; overflow: hidden; touch-action: none;
  background: var(--jp-layout-color3, #ccc); border: 1px solid var(--jp-border-color2, #ddd); }
.snapscope-stage canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.snapscope-overlay { cursor: crosshair; }
.snapscope-status { min-height: 1.4em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  font-family: var(--jp-code-font-family, monospace); }
.snapscope-error { color: var(--jp-error-color1, #d32f2f); }
.snapscope-display { display: flex; gap: 4px 10px; align-items: center; flex-wrap: wrap; }
.snapscope-display[hidden], .snapscope-colorbar[hidden] { display: none; }
.snapscope-display label { display: inline-flex; gap: 4px; align-items: center; }
.snapscope-display select, .snapscope-display input { font: inherit; color: inherit;
  background: var(--jp-layout-color1, #fff); border: 1px solid var(--jp-border-color1, #bbb); border-radius: 2px; }
.snapscope-display input[type="number"] { width: 7.5em; }
.snapscope-display input[aria-invalid="true"] { border-color: var(--jp-error-color1, #d32f2f); }
.snapscope-colorbar-ramp { display: block; width: 100%; height: 10px; image-rendering: pixelated;
  border: 1px solid var(--jp-border-color2, #ddd); box-sizing: border-box; }
.snapscope-colorbar-ticks { position: relative; height: 1.3em; overflow: hidden;
  font-family: var(--jp-code-font-family, monospace); font-size: 11px; }
.snapscope-colorbar-ticks span { position: absolute; top: 0; white-space: nowrap; }
.snapscope-colorbar-ticks span::before { content: ""; position: absolute; left: 50%; top: -3px; height: 3px;
  border-left: 1px solid currentColor; }
`;

export interface Dom {
  root: HTMLElement;
  stage: HTMLElement;
  image: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  status: HTMLElement;
  error: HTMLElement;
  label: HTMLElement;
  buttons: Record<string, HTMLButtonElement>;
  /** The display control's row (filled by ui/displayControl.ts). */
  display: HTMLElement;
  /** The colorbar (filled by ui/colorbar.ts). */
  colorbar: HTMLElement;
}

const BUTTONS: [string, string, string][] = [
  ["zoomOut", "−", "Zoom out (-)"],
  ["zoomIn", "+", "Zoom in (+)"],
  ["fit", "Fit", "Fit the image (f)"],
  ["one", "1:1", "One image pixel per screen pixel (1)"],
  ["mask", "Mask", "Show flagged pixels (m)"],
  ["blink", "Blink", "Next loaded image (b)"],
  ["display", "Display", "Cuts, stretch and colormap (d)"],
];

/** A new element with these properties (className, title, textContent…). */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

export function buildDom(el: HTMLElement, height: string): Dom {
  const root = element("div", { className: "snapscope-viewer", tabIndex: 0 });
  const toolbar = element("div", { className: "snapscope-toolbar" });
  const buttons: Record<string, HTMLButtonElement> = {};
  for (const [name, text, title] of BUTTONS) {
    buttons[name] = element("button", { type: "button", textContent: text, title });
    buttons[name].dataset.action = name;
    toolbar.append(buttons[name]);
  }
  const label = element("span", { className: "snapscope-label" });
  toolbar.append(label);
  const stage = element("div", { className: "snapscope-stage" });
  stage.style.height = height;
  const image = element("canvas", { className: "snapscope-image" });
  const overlay = element("canvas", { className: "snapscope-overlay" });
  stage.append(image, overlay);
  const status = element("div", { className: "snapscope-status" });
  const error = element("div", { className: "snapscope-status snapscope-error" });
  const display = element("div", { className: "snapscope-display" });
  const colorbar = element("div", { className: "snapscope-colorbar" });
  root.append(element("style", { textContent: CSS }), toolbar, display, stage, colorbar, status, error);
  el.append(root);
  return { root, stage, image, overlay, status, error, label, buttons, display, colorbar };
}
