"""`--format html`: one self-contained page (no network: inline style, script and SVG, a CSP that forbids
fetching anything) showing a drawn picture of the zones and the arrows between them (picture.py), zones
with their objects, the reachability between zones as the pack's NetworkPolicy model computes it, who
can reach the vault zone, every path from an AI workload, this change's create/update/delete, violations
and not-checked items where they are, and a filterable table.

Big zones are collapsed (kinds with counts, objects in a <details>) so a 1,000-service stack stays a page.
Status is always a word as well as a colour; the filter has a label; sections are landmarks.
"""

from __future__ import annotations

from collections import Counter
from html import escape

from cdb_engine.model import Verdict
from cdb_engine.reports.common import summarize
from cdb_engine.reports.picture import edge_table, render_svg, zone_name
from cdb_engine.reports.zones import Row, ZoneMap, build

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header,main,footer{padding:0 1.5rem}main{display:grid;gap:1.5rem}
.zones{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem}
.zone{background:#fff;border:2px solid #5a6b7b;border-radius:6px;padding:.5rem .8rem}
.zone.vault{border-color:#7a3e9d;border-width:4px}.zone.bad{outline:3px dashed #b00020}
.badge{display:inline-block;border-radius:3px;padding:0 .3rem;margin-left:.3rem;font-size:.85em;border:1px solid}
.violation{color:#8b0000;background:#ffe5e5}.unchecked{color:#5a3e00;background:#fff4d6}
.create{color:#0b5d1e;background:#e3f6e8}.update,.replace{color:#1d3f8f;background:#e6eeff}
.delete{color:#8b0000;background:#f3e0e0;text-decoration:line-through}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
td.yes{background:#e3f6e8}caption{text-align:left;font-weight:bold;padding:.3rem 0}
a:focus,input:focus,summary:focus{outline:3px solid #1d3f8f}
:focus-visible{outline:3px solid #1d3f8f;outline-offset:2px}
.picture svg{background:#fff;border:1px solid #ccc;max-height:80vh}
"""
_SCRIPT = """
const input=document.getElementById('filter');const rows=[...document.querySelectorAll('#objects tbody tr')];
const status=document.getElementById('filter-status');
input.addEventListener('input',()=>{const q=input.value.toLowerCase();let n=0;
for(const r of rows){const show=r.textContent.toLowerCase().includes(q);r.hidden=!show;if(show)n++;}
status.textContent=n+' of '+rows.length+' objects shown';});
"""
_COLLAPSE = 12  # a zone with more objects shows kinds with counts; the objects are one click away


def render_html(verdict: Verdict) -> str:
    zmap = build(verdict)
    summary = summarize(verdict)
    title = f"cdb preview: stack {verdict.stack}: {summary.outcome.upper()}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f'<header><h1>{escape(title)}</h1><nav aria-label="Sections"><a href="#picture">Picture</a> · '
        '<a href="#zones">Zones</a> · '
        '<a href="#reach">Reachability</a> · <a href="#vault">Vault zone</a> · <a href="#ai">AI paths</a> · '
        '<a href="#objects-section">All objects</a></nav>',
        f"<p>{_counts(verdict, summary)}</p></header><main>",
        _picture(zmap), _zones(zmap), _matrix(zmap), _vault(zmap), _ai(zmap), _table(zmap),
        f"</main><footer><p>Reachability: the policy pack's NetworkPolicy evaluation (policy_pack/rules/helpers/netpol.py)."
        f"</p></footer><script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _counts(verdict: Verdict, summary) -> str:
    text = (f"{summary.resources} resources; {summary.mandatory} mandatory and {summary.advisory} advisory "
            f"violations; {summary.unchecked} not checked; exit code {summary.exit_code}.")
    if verdict.diff is not None:
        text += f" Against {verdict.diff.base}: {verdict.diff.summary()}."
    return escape(text)


def _badges(row: Row) -> str:
    out = []
    if row.change:
        out.append(f'<span class="badge {row.change}">{row.change}</span>')
    if row.violations:
        out.append(f'<span class="badge violation">violation ({len(row.violations)})</span>')
    if row.unchecked:
        out.append(f'<span class="badge unchecked">not checked ({len(row.unchecked)})</span>')
    return "".join(out)


def _zones(zmap: ZoneMap) -> str:
    out = ['<section id="zones" aria-labelledby="zones-h"><h2 id="zones-h">Zones</h2><div class="zones">']
    for zone, rows in zmap.zones.items():
        bad = sum(1 for r in rows if r.violations)
        classes = "zone" + (" vault" if zone in zmap.vault_zones else "") + (" bad" if bad else "")
        label = zone_name(zone) + (" (vault zone)" if zone in zmap.vault_zones else "")
        out.append(f'<article class="{classes}" aria-label="zone {escape(label)}" data-zone="{escape(zone)}">'
                   f"<h3>{escape(label)}</h3><p>{len(rows)} objects"
                   + (f'<span class="badge violation">{bad} with violations</span>' if bad else "") + "</p>")
        kinds = Counter(r.kind for r in rows)
        out.append("<p>" + ", ".join(f"{n} {escape(k)}" for k, n in sorted(kinds.items())) + "</p>")
        items = "".join(f"<li>{escape(r.kind)} {escape(r.name)}{_badges(r)}</li>" for r in rows)
        if len(rows) > _COLLAPSE:
            out.append(f"<details><summary>show the {len(rows)} objects</summary><ul>{items}</ul></details>")
        else:
            out.append(f"<ul>{items}</ul>")
        out.append("</article>")
    return "".join(out) + "</div></section>"


def _picture(zmap: ZoneMap) -> str:
    legend = ("Boxes are zones with their workloads; an arrow means pods of one zone may open connections to "
              "pods of the other. ")
    if zmap.base_paths is not None:
        legend += ("Dashed arrows marked “+ added” are new with this change, dotted ones marked “− removed” are "
                   "gone, mixed dashes marked “±” changed. ")
    legend += "A dashed red outline and “!” mark violations; “?” marks items not checked."
    return ('<section id="picture" class="picture" aria-labelledby="picture-h"><h2 id="picture-h">Picture</h2>'
            f"<p>{escape(legend)}</p>{render_svg(zmap)}{edge_table(zmap)}</section>")


def _matrix(zmap: ZoneMap) -> str:
    names = sorted({z for pair in zmap.paths for z in pair})
    out = ['<section id="reach" aria-labelledby="reach-h"><h2 id="reach-h">Reachability between zones</h2>']
    if zmap.error:
        out.append(f'<p role="alert" class="badge violation">{escape(zmap.error)}</p>')
    out.append('<table><caption>Rows: from zone; columns: to zone; a cell says how many pod-to-pod paths the '
               'NetworkPolicies admit</caption><thead><tr><th scope="col">from \\ to</th>')
    out += [f'<th scope="col">{escape(n)}</th>' for n in names]
    out.append("</tr></thead><tbody>")
    for src in names:
        out.append(f'<tr><th scope="row">{escape(src)}</th>')
        for dst in names:
            found = zmap.paths.get((src, dst), [])
            out.append(f'<td class="yes" title="{escape(chr(10).join(found))}">{len(found)} paths</td>' if found
                       else "<td>none</td>")
        out.append("</tr>")
    return "".join(out) + "</tbody></table></section>"


def _vault(zmap: ZoneMap) -> str:
    out = ['<section id="vault" aria-labelledby="vault-h"><h2 id="vault-h">Who can reach the vault zone</h2>']
    if not zmap.vault_zones:
        out.append("<p>The stack declares no vault zone.</p>")
    for zone in zmap.vault_zones:
        sources = zmap.vault_reachable_from[zone]
        out.append(f'<h3>{escape(zone)}</h3><ul class="reachable-from" data-zone="{escape(zone)}">')
        out += [f"<li>{escape(s)}</li>" for s in sources] or ["<li>nothing outside the zone</li>"]
        out.append("</ul>")
    return "".join(out) + "</section>"


def _ai(zmap: ZoneMap) -> str:
    items = "".join(f"<li>{escape(p)}</li>" for p in zmap.ai_paths) or "<li>no AI workload has a path</li>"
    return (f'<section id="ai" aria-labelledby="ai-h"><h2 id="ai-h">Every path from an AI workload</h2>'
            f"<ul>{items}</ul></section>")


def _table(zmap: ZoneMap) -> str:
    out = ['<section id="objects-section" aria-labelledby="objects-h"><h2 id="objects-h">All objects</h2>',
           '<label for="filter">Filter objects (zone, kind, name, status): </label>'
           '<input id="filter" type="search" autocomplete="off"> <span id="filter-status" role="status"></span>',
           '<table id="objects"><caption>Every object with its zone, change and findings</caption><thead><tr>'
           '<th scope="col">Zone</th><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">Change</th>'
           '<th scope="col">Findings</th></tr></thead><tbody>']
    for zone, rows in zmap.zones.items():
        for row in rows:
            findings = "<br>".join(
                [f'<span class="badge violation">violation</span> {escape(v)}' for v in row.violations]
                + [f'<span class="badge unchecked">not checked</span> {escape(u)}' for u in row.unchecked])
            change = f'<span class="badge {row.change}">{row.change}</span>' if row.change else "unchanged"
            out.append(f"<tr><td>{escape(zone_name(zone))}</td><td>{escape(row.kind)}</td><td>{escape(row.name)}</td>"
                       f"<td>{change}</td><td>{findings}</td></tr>")
    return "".join(out) + "</tbody></table></section>"
