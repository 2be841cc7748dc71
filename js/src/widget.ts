// anywidget entry point: wiring only. Each render() builds an independent Viewer tied to the
// view's AbortSignal; the returned cleanup aborts it, removing exactly what it added. The same
// bundle renders a CompareView (a model with `_panes`): its panes' layout (link/compare.ts).
import type { AnyModel, Render } from "@anywidget/types";
import { renderCompare, type CompareTraits } from "./link/compare";
import type { Traits } from "./model";
import { Viewer } from "./viewer";

const render: Render<Traits & Partial<CompareTraits>> = ({ model, el, signal, host }) => {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener("abort", abort, { once: true });
  if (Array.isArray(model.get("_panes"))) {
    renderCompare(model as unknown as AnyModel<CompareTraits>, el, controller.signal, host).catch((err) => {
      el.append(Object.assign(document.createElement("pre"), { className: "snapscope-error", textContent: String(err) }));
      throw err; // and in the console
    });
  }
  else new Viewer(model, el, controller.signal);
  return () => {
    signal?.removeEventListener("abort", abort);
    abort();
  };
};

export default { render };
