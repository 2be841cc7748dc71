// Link groups: the views of one page that follow each other (the panes of a CompareView, and
// any other view of those panes' models). Members meet in a registry on globalThis keyed by the
// group id (the `_link` trait), not in a module global: anywidget instantiates this bundle once
// per widget class, so the CompareView's copy and the ImageWidgets' copy must still find each
// other. A member leaves when its signal aborts; an empty group is deleted.
import type { ViewState } from "../view";
import type { DisplayEdit } from "../ui/displayState";
import type { SkyView } from "./skyView";

/** What members tell each other; each member handles the kinds it knows (and says so). */
export type LinkMsg =
  /** A user pan/zoom: the sender's view on the sky (null without a WCS) and in pixels. */
  | { kind: "view"; sky: SkyView | null; pixel: ViewState }
  /** The cursor's position on the sky and in the sender's pixels (null: it left the pane). */
  | { kind: "cursor"; sky: [number, number] | null; pixel: [number, number] | null }
  /** A display-control edit (shared stretch). */
  | { kind: "display"; edit: DisplayEdit }
  /** Show the next pane in the blink slot. */
  | { kind: "blink" };

export interface LinkMember {
  /** Handle a message from another member; true when this member acted on its kind. */
  receive(msg: LinkMsg): boolean;
}

const REGISTRY = Symbol.for("snapscope.linkGroups");

function registry(): Map<string, Set<LinkMember>> {
  const g = globalThis as { [REGISTRY]?: Map<string, Set<LinkMember>> };
  return (g[REGISTRY] ??= new Map());
}

export class LinkGroup {
  private constructor(readonly id: string, private members: Set<LinkMember>) {}

  /** Add `member` to group `id` until `signal` aborts. */
  static join(id: string, member: LinkMember, signal: AbortSignal): LinkGroup {
    const groups = registry();
    let members = groups.get(id);
    if (!members) groups.set(id, (members = new Set()));
    members.add(member);
    const set = members;
    signal.addEventListener("abort", () => {
      set.delete(member);
      if (!set.size && groups.get(id) === set) groups.delete(id);
    }, { once: true });
    return new LinkGroup(id, members);
  }

  /** Members of group `id` in this page (0 when it does not exist). */
  static size(id: string): number {
    return registry().get(id)?.size ?? 0;
  }

  /** Deliver `msg` to every other member, synchronously; returns how many acted on it. */
  send(from: LinkMember, msg: LinkMsg): number {
    let acted = 0;
    for (const m of [...this.members]) if (m !== from && m.receive(msg)) acted++;
    return acted;
  }
}
