"""The drawn picture of `--format html`: zones as boxes with their workloads, arrows for the reachability
between zones (the pack's NetworkPolicy evaluation, via zones.ZoneMap), inline SVG with no fetch.

One box per zone whatever its size (a zone of 1,000 services is one box naming a few and counting the
rest), so the picture stays readable from the dev stack to a 1,000-service one. Boxes sit on an ellipse
in name order (vault zones last, so they share a side), arrows are curved so A->B and B->A stay apart.
Every state is drawn twice, as a line style or outline and as words: this change's added paths dashed
and labelled "+ added", removed ones dotted and labelled "- removed"; a zone with violations has a
double dashed outline and "! N violations"; not-checked items "? N not checked". The same facts are in
the table after the picture (its text alternative), and the SVG has a title and a description.
"""

from __future__ import annotations

import math
from collections import Counter
from html import escape

from cdb_engine.reports.zones import ZoneMap

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
_SHOWN = 3  # workloads named per box; the rest are counted
_NAME = 30  # characters of a workload name that fit a box
_BOX_W, _LINE = 230, 16
_MARK = {"added": "+ added", "removed": "− removed", "changed": "± changed", "same": ""}
_DASH = {"added": ' stroke-dasharray="9 5"', "removed": ' stroke-dasharray="2 4"', "changed": ' stroke-dasharray="12 3 2 3"',
         "same": ""}


def zone_name(zone: str) -> str:
    return zone or "cluster-scoped"


def edges(zmap: ZoneMap) -> list[tuple[str, str, int, str, int, int]]:
    """(from, to, paths now, change, added, removed) of every zone pair with paths now or in the base."""
    pairs = set(zmap.paths) | set(zmap.base_paths or {})
    out = []
    for src, dst in sorted(pairs):
        if src == dst:
            continue
        change, added, removed = zmap.edge_change((src, dst))
        out.append((src, dst, len(zmap.paths.get((src, dst), ())), change, added, removed))
    return out


def _box_lines(zone: str, zmap: ZoneMap) -> list[str]:
    rows = zmap.zones.get(zone, [])
    workloads = [r.name for r in rows if r.kind in WORKLOAD_KINDS]
    lines = [f"{len(rows)} objects, {len(workloads)} workloads"]
    lines += [w if len(w) <= _NAME else w[:_NAME - 1] + "…" for w in workloads[:_SHOWN]]
    if len(workloads) > _SHOWN:
        lines.append(f"… and {len(workloads) - _SHOWN} more")
    inside = len(zmap.paths.get((zone, zone), ()))
    if inside:
        lines.append(f"{_paths(inside)} inside the zone")
    bad = sum(1 for r in rows if r.violations)
    unchecked = sum(1 for r in rows if r.unchecked)
    if bad:
        lines.append(f"! {bad} with violations")
    if unchecked:
        lines.append(f"? {unchecked} not checked")
    changed = Counter(r.change for r in rows if r.change)
    if changed:
        lines.append(", ".join(f"{n} {a}" for a, n in sorted(changed.items())))
    return lines


def _paths(n: int) -> str:
    return f"{n} path" if n == 1 else f"{n} paths"


def render_svg(zmap: ZoneMap) -> str:
    drawn = edges(zmap)
    names = sorted({z for z in zmap.zones} | {z for e in drawn for z in e[:2]},
                   key=lambda z: (z in zmap.vault_zones, z))
    if not names:
        return "<p>No zones to draw.</p>"
    boxes = {z: _box_lines(z, zmap) for z in names}
    height_of = {z: 34 + _LINE * len(lines) for z, lines in boxes.items()}
    n = len(names)
    rx, ry = max(300, 60 * n), max(200, 40 * n)
    cx, cy = rx + _BOX_W / 2 + 20, ry + max(height_of.values()) / 2 + 20
    width, height = 2 * cx, 2 * cy
    centre = {}
    for i, zone in enumerate(names):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        centre[zone] = (cx + rx * math.cos(angle), cy + ry * math.sin(angle))

    added = sum(1 for e in drawn if e[3] == "added")
    removed = sum(1 for e in drawn if e[3] == "removed")
    desc = (f"{n} zones drawn as boxes and {len(drawn)} arrows, one per pair of zones the NetworkPolicies "
            f"let pods connect across")
    if zmap.base_paths is not None:
        desc += f"; this change adds {added} and removes {removed} such zone-to-zone connections"
    for zone in zmap.vault_zones:
        sources = sorted({e[0] for e in drawn if e[1] == zone and e[2]})
        desc += f"; the vault zone {zone} is reachable from " + (", ".join(sources) or "no other zone")
    desc += ". The table after the picture lists the same arrows."
    out = [f'<svg id="zone-graph" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="100%" role="img" aria-labelledby="zone-graph-title zone-graph-desc">',
           '<title id="zone-graph-title">Zones and the network paths between them</title>',
           f'<desc id="zone-graph-desc">{escape(desc)}</desc>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" '
           'markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>']
    for src, dst, count, change, plus, minus in drawn:
        out.append(_arrow(centre[src], centre[dst], height_of[src], height_of[dst], src, dst, count, change, plus, minus))
    for zone in names:
        out.append(_box(zone, centre[zone], boxes[zone], height_of[zone], zmap))
    out.append("</svg>")
    return "".join(out)


def _clip(a: tuple[float, float], b: tuple[float, float], h: float) -> tuple[float, float]:
    """Where the line from box centre a towards b leaves the box (so arrows end at the border)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == dy == 0:
        return a
    scale = min((_BOX_W / 2) / abs(dx) if dx else math.inf, (h / 2) / abs(dy) if dy else math.inf)
    return a[0] + dx * scale, a[1] + dy * scale


def _arrow(a, b, ha, hb, src, dst, count, change, plus, minus) -> str:
    start, end = _clip(a, b, ha + 8), _clip(b, a, hb + 8)
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy) or 1
    bend = 60  # to the left of the direction of travel: the two directions of a pair never overlap
    qx, qy = mx - dy / length * bend, my + dx / length * bend
    label = _paths(count) if count else "no paths now"
    mark = _MARK[change]
    if change == "changed":
        mark = f"± changed: +{plus} −{minus}"
    text = f"{label} {mark}".strip()
    title = f"{zone_name(src)} to {zone_name(dst)}: {text}"
    colour = {"added": "#0b5d1e", "removed": "#8b0000", "changed": "#1d3f8f"}.get(change, "#44505c")
    lx, ly = (mx + qx) / 2, (my + qy) / 2
    return (f'<g class="edge {change}" data-from="{escape(src)}" data-to="{escape(dst)}"><title>{escape(title)}</title>'
            f'<path d="M{start[0]:.1f},{start[1]:.1f} Q{qx:.1f},{qy:.1f} {end[0]:.1f},{end[1]:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="{2.5 if change != "same" else 1.5}"{_DASH[change]} marker-end="url(#arrow)"/>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" text-anchor="middle" fill="{colour}" '
            f'paint-order="stroke" stroke="#fff" stroke-width="4">{escape(text)}</text></g>')


def _box(zone, centre, lines, h, zmap: ZoneMap) -> str:
    x, y = centre[0] - _BOX_W / 2, centre[1] - h / 2
    rows = zmap.zones.get(zone, [])
    bad = any(r.violations for r in rows)
    vault = zone in zmap.vault_zones
    label = zone_name(zone) + (" (vault zone)" if vault else "")
    classes = "zone-box" + (" vault" if vault else "") + (" bad" if bad else "")
    outline = (f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="{_BOX_W + 10}" height="{h + 10:.1f}" rx="8" fill="none" '
               f'stroke="#b00020" stroke-width="2.5" stroke-dasharray="6 3"/>' if bad else "")
    border = 'stroke="#7a3e9d" stroke-width="4"' if vault else 'stroke="#5a6b7b" stroke-width="2"'
    text = [f'<text x="{x + 10:.1f}" y="{y + 20:.1f}" font-size="14" font-weight="bold">{escape(label)}</text>']
    for i, line in enumerate(lines):
        weight = ' font-weight="bold" fill="#8b0000"' if line.startswith("!") else (
            ' fill="#5a3e00"' if line.startswith("?") else "")
        text.append(f'<text x="{x + 10:.1f}" y="{y + 38 + i * _LINE:.1f}" font-size="12"{weight}>{escape(line)}</text>')
    return (f'<g class="{classes}" data-zone="{escape(zone)}"><title>{escape(label)}: {escape("; ".join(lines))}</title>'
            f'{outline}<rect x="{x:.1f}" y="{y:.1f}" width="{_BOX_W}" height="{h:.1f}" rx="6" fill="#fff" {border}/>'
            + "".join(text) + "</g>")


def edge_table(zmap: ZoneMap) -> str:
    """The picture's arrows as a table: its text alternative, row by row."""
    drawn = edges(zmap)
    out = ['<table id="zone-edges"><caption>The arrows of the picture: paths between zones the NetworkPolicies admit'
           + (" and what this change does to them" if zmap.base_paths is not None else "")
           + '</caption><thead><tr><th scope="col">From zone</th><th scope="col">To zone</th>'
           '<th scope="col">Paths now</th><th scope="col">This change</th></tr></thead><tbody>']
    for src, dst, count, change, plus, minus in drawn:
        what = {"added": f"added ({_paths(plus)})", "removed": f"removed ({_paths(minus)})",
                "changed": f"changed (+{plus} −{minus})", "same": "unchanged"}[change]
        if zmap.base_paths is None:
            what = "(no base)"
        out.append(f"<tr><td>{escape(zone_name(src))}</td><td>{escape(zone_name(dst))}</td><td>{count}</td>"
                   f"<td>{escape(what)}</td></tr>")
    if not drawn:
        out.append('<tr><td colspan="4">no paths between zones</td></tr>')
    return "".join(out) + "</tbody></table>"
