// The display control and the colorbar of one view, tied to the model: shows the displayed
// image's `_displays` entry, turns each control change into a new `_displays` (whose change
// event repaints every view of the model from the tiles it holds) and saves it for Python.
import type { ImageTrait, Model } from "../model";
import type { DisplayState } from "../render/types";
import type { Telemetry } from "../telemetry";
import { Colorbar } from "./colorbar";
import { quantilesFromTrait } from "./cuts";
import { DisplayControl } from "./displayControl";
import { applyEdit, type DisplayEdit } from "./displayState";
import type { Dom } from "./dom";

export class DisplayPanel {
  private control: DisplayControl;
  private colorbar: Colorbar;

  /** `edited` hears the control's edits (a link group shares them, see link/paneLink.ts). */
  constructor(
    private model: Model, private dom: Dom, private image: () => ImageTrait | undefined,
    private telemetry: Telemetry, signal: AbortSignal, edited: (edit: DisplayEdit) => void = () => {},
  ) {
    this.control = new DisplayControl(dom.display, (e) => { this.apply(e); edited(e); }, signal);
    this.colorbar = new Colorbar(dom.colorbar);
  }

  /** Show the displayed image's cuts, stretch and colormap in the control. */
  sync(): void {
    const img = this.image();
    this.control.update(img && this.model.get("_displays")[img.key], Object.keys(this.model.get("_colormaps") ?? {}));
  }

  toggle(): void {
    this.dom.buttons.display.setAttribute("aria-pressed", String(this.control.toggle()));
  }

  /** A display edit (from the control or a linked view): the new display is the trait's, at
   * once; Python normalises it. Applied with this image's quantiles (a percentile stays one). */
  apply(edit: DisplayEdit): void {
    const img = this.image();
    const displays = this.model.get("_displays");
    if (!img || !displays[img.key]) return;
    const ctx = { quantiles: quantilesFromTrait(img.quantiles), colormaps: this.model.get("_colormaps") ?? {} };
    let next;
    try {
      next = applyEdit(displays[img.key], edit, ctx);
    } catch (err) {
      this.dom.error.textContent = String(err); // visible, and in the console
      throw err;
    }
    this.telemetry.start("edit");
    this.model.set("_displays", { ...displays, [img.key]: next });
    this.model.save_changes();
  }

  /** Per frame: redraw the colorbar if the display changed; time the first frame after an edit
   * (from a control change to its repainted frame, no kernel round trip: telemetry). */
  frame(display: DisplayState | undefined): void {
    const img = this.image();
    this.colorbar.draw(display ?? null, (img && this.model.get("_displays")[img.key]?.cmap) ?? "");
    if (display && this.telemetry.lap("edit", "editToFrameMs")) this.telemetry.count("edits");
  }
}
