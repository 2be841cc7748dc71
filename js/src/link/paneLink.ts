// One view's membership of its link group (the `_link` trait: group id, "wcs" or "pixel",
// shared display): turns the user's pans/zooms, cursor and display edits into messages to the
// other members, and their messages into this view's view, crosshair and display. Everything
// happens in the page, synchronously: the kernel hears only the debounced `_view` of each pane.
import type { LinkTrait, Model } from "../model";
import type { DisplayEdit } from "../ui/displayState";
import type { ViewState } from "../view";
import type { WcsGrid } from "../wcs";
import { LinkGroup, type LinkMember, type LinkMsg } from "./group";
import { fromSky, northUp, toSky } from "./skyView";

/** What the link needs from its viewer. */
export interface LinkedPane {
  /** WCS grid of the displayed image (null: none). */
  grid(): WcsGrid | null;
  view(): ViewState | null;
  /** Show `view` (and sync it to Python, debounced) without telling the group. */
  follow(view: ViewState): void;
  /** Mark this pixel of the displayed image (null: remove the mark). */
  crosshair(pixel: [number, number] | null): void;
  /** Apply a display edit without telling the group. */
  applyEdit(edit: DisplayEdit): void;
}

export class PaneLink implements LinkMember {
  private group: LinkGroup | null = null;
  private membership: AbortController | null = null;

  constructor(private model: Model, private pane: LinkedPane, private signal: AbortSignal) {
    signal.addEventListener("abort", () => this.membership?.abort(), { once: true });
    this.rejoin();
  }

  private get trait(): LinkTrait | null {
    return this.model.get("_link") ?? null;
  }

  /** (Re)join the group the `_link` trait names. */
  rejoin(): void {
    this.membership?.abort();
    this.membership = null;
    this.group = null;
    const id = this.trait?.group;
    if (!id || this.signal.aborted) return;
    this.membership = new AbortController();
    this.group = LinkGroup.join(id, this, this.membership.signal);
  }

  /** The user panned or zoomed this view. */
  moved(): void {
    const v = this.pane.view();
    const g = this.pane.grid();
    if (this.group && v) this.group.send(this, { kind: "view", sky: g ? toSky(g, v, v.rot) : null, pixel: v });
  }

  /** A view this pane made itself (loaded, fitted, set from Python): sky-linked panes show
   * north up, so that every pane shows the sky in one orientation. */
  orient(view: ViewState): ViewState {
    const g = this.pane.grid();
    return this.trait?.mode === "wcs" && g ? northUp(g, view) : view;
  }

  /** The cursor is over this image pixel (null: it left); false when not linked. */
  hover(pixel: [number, number] | null): boolean {
    if (!this.group) return false;
    const g = this.pane.grid();
    this.group.send(this, { kind: "cursor", sky: pixel && g ? g.pixelToSky(...pixel) : null, pixel });
    return true;
  }

  /** The user edited the display in this view. */
  edited(edit: DisplayEdit): void {
    if (this.group && this.trait?.display) this.group.send(this, { kind: "display", edit });
  }

  /** Ask the group to blink; false when no member shows panes in a blink slot. */
  blink(): boolean {
    return this.group ? this.group.send(this, { kind: "blink" }) > 0 : false;
  }

  receive(msg: LinkMsg): boolean {
    const mode = this.trait?.mode ?? "none";
    const g = this.pane.grid();
    const v = this.pane.view();
    switch (msg.kind) {
      case "view":
        if (!v || mode === "none") return false;
        if (mode === "pixel") this.pane.follow({ ...msg.pixel });
        else if (msg.sky && g) {
          const p = fromSky(g, msg.sky, [v.cx, v.cy]);
          this.pane.follow({ ...p.view, rot: p.rotation });
        }
        else return false;
        return true;
      case "cursor":
        if (mode === "none") return false;
        if (mode === "pixel") this.pane.crosshair(msg.pixel);
        else this.pane.crosshair(msg.sky && g ? g.skyToPixel(...msg.sky, v ? [v.cx, v.cy] : [0, 0]) : null);
        return true;
      case "display":
        if (!this.trait?.display) return false;
        this.pane.applyEdit(msg.edit);
        return true;
      default:
        return false;
    }
  }
}
