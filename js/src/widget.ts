// anywidget entry point of ImageWidget and CompareView: wiring only. Each render() builds an
// independent Viewer tied to the view's lifetime (lifetime.ts): the returned cleanup ends it,
// removing exactly what it added. A CompareView (a model with `_panes`) gets its panes' layout
// (link/compare.ts). The linked views have their own entry points (views/).
import type { AnyModel, Render } from "@anywidget/types";
import { viewLifetime } from "./lifetime";
import { renderCompare, type CompareTraits } from "./link/compare";
import type { Traits } from "./model";
import { Viewer } from "./viewer/viewer";

const render: Render<Traits & Partial<CompareTraits>> = ({ model, el, signal: hostSignal, host }) => {
  const { signal, end } = viewLifetime(hostSignal);
  if (Array.isArray(model.get("_panes"))) {
    renderCompare(model as unknown as AnyModel<CompareTraits>, el, signal, host).catch((err) => {
      el.append(Object.assign(document.createElement("pre"), { className: "snapscope-error", textContent: String(err) }));
      throw err; // and in the console
    });
  }
  else new Viewer(model, el, signal);
  return end;
};

export default { render };
