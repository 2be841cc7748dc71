// Link groups (registry on globalThis) and one pane's link: who hears what, and leaving on abort.
import { describe, expect, it } from "vitest";
import { LinkGroup, type LinkMember, type LinkMsg } from "../src/link/group";
import { PaneLink, type LinkedPane } from "../src/link/paneLink";
import type { LinkTrait, Model } from "../src/model";
import type { ViewState } from "../src/view";

function recorder(acts = true): LinkMember & { got: LinkMsg[] } {
  const got: LinkMsg[] = [];
  return { got, receive: (m) => (got.push(m), acts) };
}

function pane(link: LinkTrait): { model: Model; pane: LinkedPane; seen: { views: ViewState[]; edits: unknown[] } } {
  const seen = { views: [] as ViewState[], edits: [] as unknown[] };
  const model = { get: (k: string) => (k === "_link" ? link : undefined) } as unknown as Model;
  const view: ViewState = { cx: 10, cy: 20, zoom: 2 };
  return {
    model, seen,
    pane: { grid: () => null, view: () => view, follow: (v) => seen.views.push(v), crosshair: () => {}, applyEdit: (e) => seen.edits.push(e) },
  };
}

describe("link groups", () => {
  it("deliver to the other members only, and forget a member whose signal aborted", () => {
    const a = recorder(), b = recorder(), c = recorder(false);
    const ca = new AbortController(), cb = new AbortController(), cc = new AbortController();
    const group = LinkGroup.join("g1", a, ca.signal);
    LinkGroup.join("g1", b, cb.signal);
    LinkGroup.join("g1", c, cc.signal);
    LinkGroup.join("other", recorder(), new AbortController().signal);
    expect(group.send(a, { kind: "blink" })).toBe(1); // c heard it but did not act
    expect([a.got.length, b.got.length, c.got.length]).toEqual([0, 1, 1]);
    cb.abort();
    expect(LinkGroup.size("g1")).toBe(2);
    expect(group.send(a, { kind: "blink" })).toBe(0);
    ca.abort();
    cc.abort();
    expect(LinkGroup.size("g1")).toBe(0); // the empty group is gone
  });

  it("pixel-linked panes follow pixels; unlinked ones ignore views but share display edits", () => {
    const signal = new AbortController();
    const p1 = pane({ group: "g2", mode: "pixel", display: true });
    const p2 = pane({ group: "g2", mode: "pixel", display: true });
    const link1 = new PaneLink(p1.model, p1.pane, signal.signal);
    new PaneLink(p2.model, p2.pane, signal.signal);
    link1.moved();
    expect(p2.seen.views).toEqual([{ cx: 10, cy: 20, zoom: 2 }]);
    expect(link1.blink()).toBe(false); // no layout in the group: the viewer blinks its own images
    const p3 = pane({ group: "g3", mode: "none", display: true });
    const p4 = pane({ group: "g3", mode: "none", display: true });
    const link3 = new PaneLink(p3.model, p3.pane, signal.signal);
    new PaneLink(p4.model, p4.pane, signal.signal);
    link3.moved();
    link3.edited({ kind: "cmap", name: "viridis" });
    expect(p4.seen.views).toEqual([]);
    expect(p4.seen.edits).toEqual([{ kind: "cmap", name: "viridis" }]);
    signal.abort();
    expect(LinkGroup.size("g2") + LinkGroup.size("g3")).toBe(0);
  });
});
