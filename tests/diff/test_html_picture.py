"""The drawn picture of `--format html` and the page's keyboard use, in headless Chromium.

The keyboard tests press real keys over the DevTools protocol (tests/diff/cdp.py): Tab to the filter,
type, Enter and Space on a zone's summary; they read what has focus and how it is drawn.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from cdb_engine.reports.diff_sources import diff_against
from cdb_engine.model import Finding
from cdb_engine.reports import render
from cdb_engine.run import preview
from tests.diff.cdp import Browser

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prod_verdict():
    verdict = preview(PROJECT, "prod")
    assert not verdict.errors
    return verdict


@pytest.fixture
def browser(tmp_path):
    opened = Browser(tmp_path / "profile")
    yield opened
    opened.close()


def page_of(tmp_path: Path, verdict) -> Path:
    page = tmp_path / "report.html"
    page.write_text(render(verdict, "html"), encoding="utf-8")
    return page


def finding(verdict, kind: str, namespace: str, message: str) -> Finding:
    resource = next(r for r in verdict.resources if r.type == f"kubernetes:apps/v1:{kind}"
                    and r.properties.get("metadata", {}).get("namespace") == namespace)
    return Finding(policy="pods-run-as-non-root", enforcement="mandatory", severity="high", clause="5",
                   urn=resource.urn, message=message)


def svg_of(browser: Browser) -> dict:
    return browser.js("""(() => { const svg = document.getElementById('zone-graph');
      return {role: svg.getAttribute('role'), labelledby: svg.getAttribute('aria-labelledby'),
        title: svg.querySelector('title').textContent, desc: svg.querySelector('desc').textContent,
        boxes: [...svg.querySelectorAll('g.zone-box')].map(g => ({zone: g.dataset.zone, cls: g.getAttribute('class'),
          text: [...g.querySelectorAll('text')].map(t => t.textContent), dashed: !!g.querySelector('rect[stroke-dasharray]')})),
        edges: [...svg.querySelectorAll('g.edge')].map(g => ({from: g.dataset.from, to: g.dataset.to,
          cls: g.getAttribute('class'), label: g.querySelector('text').textContent,
          dash: g.querySelector('path').getAttribute('stroke-dasharray'),
          drawn: g.querySelector('path').getTotalLength() > 10})),
        rows: [...document.querySelectorAll('#zone-edges tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
        height: svg.getBoundingClientRect().height}; })()""")


def test_the_picture_draws_zones_and_the_arrows_the_network_policies_allow(tmp_path, browser, prod_verdict):
    verdict = dataclasses.replace(prod_verdict, violations=[finding(prod_verdict, "StatefulSet", "vault", "runs as root")],
                                  unchecked=[finding(prod_verdict, "Deployment", "apps", "image not known")])
    browser.open(page_of(tmp_path, verdict))
    svg = svg_of(browser)
    assert svg["role"] == "img" and svg["labelledby"] == "zone-graph-title zone-graph-desc"
    assert svg["title"] == "Zones and the network paths between them"
    assert "the vault zone vault is reachable from observability, vault-secrets-operator" in svg["desc"]
    boxes = {b["zone"]: b for b in svg["boxes"]}
    assert {"apps", "event-bus", "observability", "storage", "vault", "flux-system"} <= set(boxes)
    assert "orders-api" in boxes["apps"]["text"] and "insight-ai" in boxes["apps"]["text"]
    vault = boxes["vault"]  # marked in words and by a dashed outline, not by colour alone
    assert "bad" in vault["cls"] and vault["dashed"] and "! 1 with violations" in vault["text"]
    assert "? 1 not checked" in boxes["apps"]["text"] and not boxes["apps"]["dashed"]
    edges = {(e["from"], e["to"]): e for e in svg["edges"]}
    assert ("observability", "vault") in edges and ("vault-secrets-operator", "vault") in edges
    assert not any(dst == "vault" and src == "apps" for src, dst in edges)  # the pack's verdict: no app path
    assert all(e["drawn"] and e["dash"] is None and re.fullmatch(r"\d+ paths?", e["label"]) for e in edges.values())
    # The table is the same arrows in words.
    assert sorted((r[0], r[1]) for r in svg["rows"]) == sorted(edges)
    assert all(r[3] == "(no base)" for r in svg["rows"])
    assert [u for u in browser.requested() if not u.startswith("file://")] == []


def test_paths_this_change_adds_or_removes_are_dashed_dotted_and_labelled(tmp_path, browser, prod_verdict):
    base = tmp_path / "base"
    shutil.copytree(PROJECT / "deploy" / "prod", base)
    (base / "event-bus" / "networkpolicy-nats.yaml").unlink()  # the base did not admit clients to NATS
    # This change drops the vault zone's own policy and the scrape policy: its ingress paths are removed.
    head = [r for r in prod_verdict.resources if not (r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
            and r.properties.get("metadata", {}).get("name") in ("allow-scrape-vault", "vault"))]
    verdict = dataclasses.replace(prod_verdict, resources=head)
    verdict.diff = diff_against(str(base), PROJECT, "prod", head, tmp_path / "scratch")
    browser.open(page_of(tmp_path, verdict))
    svg = svg_of(browser)
    edges = {(e["from"], e["to"]): e for e in svg["edges"]}
    removed = edges[("observability", "vault")]
    assert "removed" in removed["cls"] and removed["dash"] == "2 4" and removed["label"] == "no paths now − removed"
    added = edges[("apps", "event-bus")]
    assert "added" in added["cls"] and added["dash"] == "9 5" and added["label"].endswith("+ added")
    assert edges[("flux-system", "event-bus")]["label"].endswith("+ added")
    rows = {(r[0], r[1]): r[3] for r in svg["rows"]}
    assert rows[("observability", "vault")].startswith("removed (") and rows[("apps", "event-bus")].startswith("added (")
    assert "this change adds" in svg["desc"] and "the vault zone vault is reachable from no other zone." in svg["desc"]


def test_a_thousand_services_are_one_box_per_zone_with_the_rest_counted(tmp_path):
    from benchmarks.html_bench import verdict_of

    html = render(verdict_of(1000), "html")
    boxes = re.findall(r'<g class="zone-box[^"]*" data-zone="([^"]*)"', html)
    assert len(boxes) == len(set(boxes)) < 20
    apps = html[html.index('data-zone="apps"><title>'):]
    apps = apps[:apps.index("</g>")]
    assert "1001 workloads" in apps or "1000 workloads" in apps
    assert re.search(r"… and 99\d more", apps)
    assert len(html) < 1_000_000


def test_the_keyboard_reaches_the_filter_and_typing_filters_the_table_with_focus_visible(tmp_path, browser, prod_verdict):
    browser.open(page_of(tmp_path, prod_verdict))
    for _ in range(60):
        browser.press("Tab")
        if browser.js("document.activeElement.id") == "filter":
            break
    else:
        pytest.fail("Tab never reached the filter")
    outline = browser.js("(() => { const s = getComputedStyle(document.activeElement); "
                         "return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert outline[0] != "none" and outline[1] >= 2
    browser.type("prometheus")
    rows = browser.js("[...document.querySelectorAll('#objects tbody tr')].filter(r => !r.hidden).map(r => r.textContent)")
    total = browser.js("document.querySelectorAll('#objects tbody tr').length")
    assert rows and len(rows) < total and all("prometheus" in r.lower() for r in rows)
    assert browser.js("document.getElementById('filter-status').textContent") == f"{len(rows)} of {total} objects shown"
    browser.press("Tab", shift=True)  # and back out again: no keyboard trap
    assert browser.js("document.activeElement.id") != "filter"
    assert [u for u in browser.requested() if not u.startswith("file://")] == []


def test_zone_details_open_with_enter_and_with_space_and_show_focus(tmp_path, browser, prod_verdict):
    browser.open(page_of(tmp_path, prod_verdict))
    opened = []
    for key in ("Enter", " "):
        for _ in range(60):
            browser.press("Tab")
            if browser.js("document.activeElement.tagName") == "SUMMARY":
                break
        else:
            pytest.fail("Tab never reached a zone's summary")
        summary = "document.activeElement"
        assert browser.js(f"{summary}.parentElement.open") is False
        assert browser.js(f"getComputedStyle({summary}).outlineStyle") != "none"
        browser.press(key)
        assert browser.js(f"{summary}.parentElement.open") is True, f"{key!r} did not open the zone's objects"
        zone = browser.js(f"{summary}.closest('article').dataset.zone")
        items = browser.js(f"{summary}.parentElement.querySelectorAll('li').length")
        opened.append((zone, items))
    assert len({zone for zone, _ in opened}) == 2 and all(items > 12 for _, items in opened)
