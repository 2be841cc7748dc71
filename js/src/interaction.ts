// Mouse, wheel, keyboard and toolbar input. Every listener is registered with the view's
// AbortSignal, so aborting it removes exactly what was added here.
import type { Dom } from "./ui/dom";

export interface Handlers {
  pan(dx: number, dy: number): void;
  zoom(factor: number, sx?: number, sy?: number): void;
  hover(pos: [number, number] | null): void;
  click(sx: number, sy: number): void;
  action(name: string): void;
}

const KEYS: Record<string, string> = {
  "+": "zoomIn",
  "=": "zoomIn",
  "-": "zoomOut",
  _: "zoomOut",
  f: "fit",
  "1": "one",
  m: "mask",
  b: "blink",
  d: "display",
};

export function attachInput(dom: Dom, h: Handlers, signal: AbortSignal): void {
  const o = { signal };
  const target = dom.overlay;
  let drag: { id: number; x: number; y: number; moved: number } | null = null;
  const local = (e: MouseEvent): [number, number] => {
    const r = target.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  target.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: 0 };
    target.setPointerCapture(e.pointerId);
    dom.root.focus({ preventScroll: true });
  }, o);
  target.addEventListener("pointermove", (e) => {
    if (drag && drag.id === e.pointerId) {
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      drag.moved += Math.abs(dx) + Math.abs(dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
      if (dx || dy) h.pan(dx, dy);
    }
    h.hover(local(e));
  }, o);
  const end = (e: PointerEvent) => {
    if (!drag || drag.id !== e.pointerId) return;
    const clicked = drag.moved < 4 && e.type === "pointerup";
    drag = null;
    if (target.hasPointerCapture(e.pointerId)) target.releasePointerCapture(e.pointerId);
    if (clicked) h.click(...local(e));
  };
  target.addEventListener("pointerup", end, o);
  target.addEventListener("pointercancel", end, o);
  target.addEventListener("pointerleave", () => h.hover(null), o);
  target.addEventListener("wheel", (e) => {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    h.zoom(Math.exp(-e.deltaY * unit * 0.002), ...local(e));
  }, { signal, passive: false });
  dom.root.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) {
      e.stopPropagation(); // typing in the display control: no viewer or notebook shortcuts
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const step = 0.1 * Math.min(target.clientWidth, target.clientHeight);
    const arrows: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    if (arrows[e.key]) h.pan(...arrows[e.key]);
    else if (KEYS[e.key]) h.action(KEYS[e.key]);
    else return;
    e.preventDefault();
    e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of it
  }, o);
  for (const [name, b] of Object.entries(dom.buttons)) b.addEventListener("click", () => h.action(name), o);
}
