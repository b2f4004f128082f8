"""`--format html` opened in headless Chromium: what a person sees, and that nothing is fetched."""

import dataclasses
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from cdb_engine.model import Finding
from cdb_engine.reports import render
from cdb_engine.reports.zones import build
from cdb_engine.run import preview

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def prod_verdict():
    verdict = preview(PROJECT, "prod")
    assert not verdict.errors
    return verdict


def with_violation(verdict):
    """The prod verdict with one violation on the vault StatefulSet, as the pack would report it."""
    vault = next(r for r in verdict.resources if r.type == "kubernetes:apps/v1:StatefulSet"
                 and r.properties.get("metadata", {}).get("namespace") == "vault")
    finding = Finding(policy="pods-run-as-non-root", enforcement="mandatory", severity="high", clause="5",
                      urn=vault.urn, message="containers[0] runs as root")
    return dataclasses.replace(verdict, violations=[finding])


def chromium(tmp_path, page, *args):
    assert CHROMIUM, "chromium is missing: scripts/ensure-test-servers.sh installs the Debian package"
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_colours(png: bytes) -> int:
    """How many distinct pixel rows the screenshot has (a blank page has one)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, depth_bytes = 8, b"", 0, 0, 4
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, colour = struct.unpack(">IIBB", data[:10])
            depth_bytes = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * depth_bytes + 1
    return len({raw[i * stride + 1:(i + 1) * stride] for i in range(height)})


def test_the_page_shows_zones_the_vault_zone_s_reachers_and_a_marked_violation(tmp_path, prod_verdict):
    page = tmp_path / "report.html"
    page.write_text(render(with_violation(prod_verdict), "html"), encoding="utf-8")
    dom = chromium(tmp_path, page, "--dump-dom")
    for zone in ("apps", "event-bus", "observability", "storage", "vault"):
        assert f'aria-label="zone {zone}' in dom
    assert 'aria-label="zone vault (vault zone)"' in dom
    reach = dom[dom.index('class="reachable-from" data-zone="vault"'):]
    reach = reach[:reach.index("</ul>")]
    assert "StatefulSet observability/prometheus (observability)" in reach  # the scrape NetworkPolicy
    assert "apps/" not in reach  # no application zone reaches the vault
    vault_zone = dom[dom.index('aria-label="zone vault (vault zone)"'):]
    vault_zone = vault_zone[:vault_zone.index("</article>")]
    assert "1 with violations" in vault_zone and "violation (1)" in vault_zone
    assert "containers[0] runs as root" in dom
    assert "<main>" in dom and "<nav" in dom and '<label for="filter">' in dom


def test_the_screenshot_is_not_blank_and_nothing_is_fetched_from_the_network(tmp_path, prod_verdict):
    page = tmp_path / "report.html"
    html = render(prod_verdict, "html")
    page.write_text(html, encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "Content-Security-Policy" in html
    shot, netlog = tmp_path / "shot.png", tmp_path / "net.json"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1280,1600", f"--log-net-log={netlog}")
    assert png_colours(shot.read_bytes()) > 50
    urls = page_requests(netlog)
    assert [u for u in urls if not u.startswith("file://")] == []  # the control test below sees a fetch


def test_the_network_check_does_see_a_page_that_fetches(tmp_path):
    """The control: the same check catches a page loading an image from a server."""
    page, netlog = tmp_path / "leaky.html", tmp_path / "net.json"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png" alt="x"></body></html>')
    chromium(tmp_path, page, "--dump-dom", f"--log-net-log={netlog}")
    assert "http://127.0.0.1:9/x.png" in page_requests(netlog)


def page_requests(netlog: Path) -> list[str]:
    """URLs of the requests the page made (Chromium's own update and time checks have no origin)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"]
            if e["type"] == start and "url" in e.get("params", {}) and e["params"].get("initiator") != "not an origin"]


def test_the_filter_hides_rows_that_do_not_match(tmp_path, prod_verdict):
    html = render(prod_verdict, "html").replace(
        "</script>", "input.value='prometheus';input.dispatchEvent(new Event('input'));</script>")
    page = tmp_path / "filtered.html"
    page.write_text(html, encoding="utf-8")
    dom = chromium(tmp_path, page, "--dump-dom")
    table = dom[dom.index('<table id="objects"'):]
    visible = [row for row in table.split("<tr")[2:] if not row.startswith(" hidden")]
    assert visible and all("prometheus" in row.lower() for row in visible)
    assert "objects shown" in dom


def test_the_vault_reachers_come_from_the_network_policies(prod_verdict):
    before = build(prod_verdict).vault_reachable_from["vault"]
    # One policy admits Prometheus to Vault: the vault zone's own (its metrics rule); without it, the
    # picture must drop Prometheus.
    without_scrape = [r for r in prod_verdict.resources
                      if not (r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
                              and r.properties.get("metadata", {}).get("name") == "vault")]
    after = build(dataclasses.replace(prod_verdict, resources=without_scrape)).vault_reachable_from["vault"]
    assert "StatefulSet observability/prometheus (observability)" in before
    assert "StatefulSet observability/prometheus (observability)" not in after
