"""The same-payload floor of a preview: the registrations a real preview made, replayed by a bare program.

`capture` keeps what a preview's program registered (every custom resource's type, name, provider and
inputs in wire form). `register_all` is the whole bare program: one `pulumi.CustomResource` per captured
registration, with the same type token and the same inputs, flat under the stack (no components, no
parents, no dependencies, no pack). Under the offline engine's mock runtime it costs what the Pulumi SDK
itself needs to register that payload, so a preview's time over this floor is what our components, the
pack and the reports add.

The registrations reach the bare program through this module, not a file it reads, so neither the
reading nor the decoding of the capture is counted in the floor.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from pulumi.runtime.rpc import _special_secret_sig as SECRET_SIG  # noqa: N812 - the SDK's own constants
from pulumi.runtime.rpc import _special_sig_key as SIG_KEY  # noqa: N812

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"

# (type, name, provider urn or "", inputs as plain Python with secrets marked) per registration
REGISTRATIONS: list[tuple[str, str, str, dict[str, Any]]] = []

BARE_MAIN = "from benchmarks import replay\n\nreplay.register_all()\n"


def capture(resources, path: Path) -> int:
    """Write the custom resources a preview registered to `path`; their count."""
    kept = [(r.type, r.name, r.provider.rsplit("::", 1)[0] if r.provider else "", r.properties)
            for r in resources if r.custom and r.type != STACK_TYPE]
    path.write_bytes(pickle.dumps(kept, pickle.HIGHEST_PROTOCOL))
    return len(kept)


def load(path: Path) -> None:
    REGISTRATIONS[:] = pickle.loads(path.read_bytes())


def make_bare(folder: Path, stack: str) -> None:
    """A Pulumi project whose program is `register_all()`."""
    (folder / "Pulumi.yaml").write_text("name: bare\nruntime: python\n")
    (folder / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (folder / "__main__.py").write_text(BARE_MAIN)


def _inputs(value: Any) -> Any:
    """Wire form back to program inputs: a secret envelope becomes a secret Output again."""
    import pulumi

    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return pulumi.Output.secret(_inputs(value.get("value")))
        return {k: _inputs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_inputs(v) for v in value]
    return value


def register_all() -> None:
    import pulumi

    providers: dict[str, pulumi.ProviderResource] = {}
    for type_, name, _, props in REGISTRATIONS:  # providers first: resources name theirs by URN
        if type_.startswith(PROVIDER_PREFIX):
            resource = pulumi.ProviderResource(type_[len(PROVIDER_PREFIX):], name, _inputs(props))
            providers[f"{type_}::{name}"] = resource
    for type_, name, provider, props in REGISTRATIONS:
        if type_.startswith(PROVIDER_PREFIX):
            continue
        key = "::".join(provider.split("::")[2:])  # type::name of the provider
        opts = pulumi.ResourceOptions(provider=providers.get(key)) if key in providers else None
        pulumi.CustomResource(type_, name, _inputs(props), opts=opts)
