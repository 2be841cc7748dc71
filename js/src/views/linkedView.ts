// What every linked view (DataTable, Thumbnails) does around its own drawing: a root element in
// the host's `el`, one redraw per batch of trait changes (one message from Python may change
// several traits, each firing its own change event), an error line under the view for a
// message it cannot handle, and an end that removes exactly what it added.
import type { AnyModel } from "@anywidget/types";
import { viewLifetime } from "../lifetime";
import { listen } from "../messages";

export interface Mounted {
  /** The view's element (a child of the host's `el`). */
  root: HTMLElement;
  /** Aborts when the view ends. */
  signal: AbortSignal;
  /** render()'s cleanup. */
  end: () => void;
}

/** Show `err` in the view's error line (made on first use). */
function showError(el: HTMLElement, err: Error): void {
  let line = el.querySelector<HTMLElement>(":scope > .snapscope-view-error");
  if (!line) {
    line = Object.assign(document.createElement("div"), { className: "snapscope-view-error" });
    el.append(line);
  }
  line.textContent = err.message;
}

/**
 * Start a view: `root` (CSS class `className`) appended to `el`. Python sends the linked views
 * traits only, so every custom message is of an unknown kind: shown and thrown.
 */
export function mountView(
  { model, el, signal: hostSignal }: { model: AnyModel<any>; el: HTMLElement; signal?: AbortSignal },
  className: string,
): Mounted {
  const { signal, end } = viewLifetime(hostSignal);
  const root = Object.assign(document.createElement("div"), { className });
  el.append(root);
  listen(model, {}, (err) => showError(el, err), signal);
  signal.addEventListener("abort", () => root.remove(), { once: true });
  return { root, signal, end };
}

/** Call `draw()` now, then once after each batch of changes to `names`, until `signal` aborts. */
export function redrawOnChange<T extends Record<string, any>>(
  model: AnyModel<T>, names: readonly (keyof T & string)[], draw: () => void, signal: AbortSignal,
): void {
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      if (!signal.aborted) draw();
    });
  };
  for (const n of names) model.on(`change:${n}`, schedule);
  signal.addEventListener("abort", () => {
    for (const n of names) model.off(`change:${n}`, schedule);
  }, { once: true });
  draw();
}
