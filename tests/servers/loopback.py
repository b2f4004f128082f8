"""The one place where a rendered configuration is bent to run on loopback in a test.

`to_loopback(text, rewrites)` is the only transformation the real-binary tests apply to a rendered
config (NATS, Prometheus, Redis arguments, OpenBao/Vault HCL): it replaces cluster addresses with
loopback addresses and container paths with temporary paths, and nothing else. Everything a reviewer
cares about (cluster names, replica counts, stream settings, scrape jobs, seal and storage stanzas)
reaches the real binary exactly as rendered.

A rendered argument vector (a container's `command` + `args`) is rewritten the same way, element by
element; there an address `0.0.0.0:<port>` stands for the flag pair `--port <port>` of a server that
binds every interface by default (redis-server), and becomes `--port <new> --bind 127.0.0.1`.

Each key must be an address (`host:port`, `host` may be a DNS name, 0.0.0.0 or `[::]`) or an absolute path,
and must occur in the text as a whole token; each value must be a 127.0.0.1 address or an absolute
path. A key that is absent is an error: when the rendering changes, the test fails instead of
silently testing something else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ADDRESS = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]*\]):\d{1,5}$")  # host:port, [v6]:port
_LOOPBACK = re.compile(r"^127\.0\.0\.1:\d{1,5}$")
# A token ends where a host name or path segment cannot continue.
_AFTER = r"(?![\w.-])"


class LoopbackRewriteError(AssertionError):
    """A rewrite that is not an address or path, or whose original is not in the text."""


def _pattern(key: str) -> re.Pattern[str]:
    if _ADDRESS.match(key):
        return re.compile(r"(?<![\w.-])" + re.escape(key) + _AFTER)
    if key.startswith("/"):
        return re.compile(r"(?<![\w./-])" + re.escape(key) + _AFTER)
    raise LoopbackRewriteError(f"{key!r} is neither a host:port address nor an absolute path; only those may be rewritten")


def to_loopback(rendered: str | list[str], rewrites: Mapping[str, str]) -> str | list[str]:
    """`rendered` with every address and path of `rewrites` replaced (all occurrences, whole tokens only)."""
    if not isinstance(rendered, str):
        return _argv(list(rendered), rewrites)
    text = rendered
    patterns = []
    for key, value in rewrites.items():
        pattern = _pattern(key)
        if _ADDRESS.match(key) and not _LOOPBACK.match(value):
            raise LoopbackRewriteError(f"{key!r} -> {value!r}: an address must become 127.0.0.1:<port>")
        if key.startswith("/") and not value.startswith("/"):
            raise LoopbackRewriteError(f"{key!r} -> {value!r}: a path must become an absolute path")
        if not pattern.search(text):
            raise LoopbackRewriteError(f"{key!r} does not occur in the rendered text; the rendering changed")
        patterns.append((pattern, value))
    patterns.sort(key=lambda pair: -len(pair[0].pattern))  # the longer token wins where two could match
    # One pass over the original text, so a replacement is never rewritten again by a later key.
    combined = re.compile("|".join(f"(?P<k{i}>{p.pattern})" for i, (p, _) in enumerate(patterns)))
    return combined.sub(lambda m: patterns[int(m.lastgroup[1:])][1], text) if patterns else text


def _argv(argv: list[str], rewrites: Mapping[str, str]) -> list[str]:
    out = list(argv)
    for key, value in rewrites.items():
        if _ADDRESS.match(key) and key.startswith("0.0.0.0:"):
            port = key.split(":")[1]
            at = [i for i in range(len(out) - 1) if out[i] == "--port" and out[i + 1] == port]
            if not at or "--bind" in out:
                raise LoopbackRewriteError(f"{key!r}: no '--port {port}' of an all-interfaces server in the rendered arguments")
            if not _LOOPBACK.match(value):
                raise LoopbackRewriteError(f"{key!r} -> {value!r}: an address must become 127.0.0.1:<port>")
            host, new_port = value.split(":")
            out[at[0] + 1] = new_port
            out += ["--bind", host]
        else:
            replaced = [to_loopback(item, {key: value}) if _pattern(key).search(item) else item for item in out]
            if replaced == out:
                raise LoopbackRewriteError(f"{key!r} does not occur in the rendered arguments; the rendering changed")
            out = replaced  # type: ignore[assignment]
    return out
