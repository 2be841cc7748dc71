// anywidget entry point: wiring only. Each render() builds an independent Viewer tied to the
// view's AbortSignal; the returned cleanup aborts it, removing exactly what it added.
import type { Render } from "@anywidget/types";
import type { Traits } from "./model";
import { Viewer } from "./viewer";

const render: Render<Traits> = ({ model, el, signal }) => {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener("abort", abort, { once: true });
  new Viewer(model, el, controller.signal);
  return () => {
    signal?.removeEventListener("abort", abort);
    abort();
  };
};

export default { render };
