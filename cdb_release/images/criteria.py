"""Clause 5 judged on the image, against the workload that runs it. Each rule is small and pure except
the secret scan, which reuses `cdb scan`'s detectors over the image's ENV, labels and layer files."""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdb_stack.images.lock import REFRESH, Entry, key_of
from cdb_stack.images.model import Image, ImageError
from cdb_release.images.workloads import Workload

CLAUSE = "5"
_FILE_BOUND = 1024 * 1024  # files scanned for secrets; larger ones are binaries or data

RULES = {
    "image-runs-as-root": "The image runs as root or a user name and the workload sets no runAsUser: "
                          "runAsNonRoot refuses it at start. Set a numeric USER in the image or runAsUser.",
    "image-volume-in-stateless": "A stateless workload's image declares VOLUME: local state. Remove the "
                                 "VOLUME, or run it as declared platform state (StatefulSet).",
    "image-credential": "A credential in the image's ENV, labels or files: anyone who can pull it can read "
                        "it. Remove it and rebuild; deliver it from Vault at run time; rotate it.",
    "image-credential-in-lower-layer": "A secret file added in a lower layer and deleted in a later one (a whiteout "
                            "of the file or of a folder above it, or an opaque whiteout of its folder) stays in "
                            "the lower layer. Rebuild without ever adding it (multi-stage or a build secret).",
    "image-probe-port-not-exposed": "A probe uses a port the image does not expose. EXPOSE the port in "
                                    "the image or fix the probe.",
    "image-health-path-mismatch": "The image's health-path label (org.cdb.health.liveness/readiness/startup) "
                                  "names another path than the workload's httpGet probe. Fix the probe or label.",
    "image-not-pinned": "In a stack that requires pinning (prod), a tag without a checked digest in "
                        "images.lock: what runs may not be what was checked. Run `cdb images --stack S --lock`.",
    "image-digest-changed": "The tag resolves to another digest than images.lock recorded: the image changed "
                            "after it was checked. Check it again and --lock.",
}


@dataclass(frozen=True, order=True)
class Finding:
    image: str
    workload: str
    rule: str
    message: str
    clause: str = CLAUSE
    source: str = ""  # the manifest file that declares the workload, for code scanning locations


def _numeric_user(user: str) -> int | None:
    name = user.split(":", 1)[0].strip()
    return int(name) if name.isdigit() else None


def runs_as_root(image: Image, workload: Workload | None) -> list[str]:
    if workload is not None and workload.run_as_user not in (None, 0):
        return []
    user = str(image.runtime.get("User") or "")
    uid = _numeric_user(user)
    if uid is not None and uid != 0:
        return []
    shown = f"USER {user!r}" if user else "no USER (root)"
    return [f"image has {shown} and the workload sets no non-zero runAsUser"]


def volume_in_stateless(image: Image, workload: Workload | None) -> list[str]:
    volumes = sorted((image.runtime.get("Volumes") or {}).keys())
    if not volumes or workload is None or not workload.stateless:
        return []
    return [f"image declares VOLUME {', '.join(volumes)} for a stateless {workload.kind}"]


def probe_ports_exposed(image: Image, workload: Workload | None) -> list[str]:
    if workload is None:
        return []
    exposed = {int(str(p).split("/")[0]) for p in (image.runtime.get("ExposedPorts") or {}) if str(p).split("/")[0].isdigit()}
    problems = []
    for port in workload.probe_ports:
        number = workload.named_ports.get(port) if isinstance(port, str) else port
        if number is None:
            problems.append(f"probe port {port!r} is not a named port of the container")
        elif number not in exposed:
            problems.append(f"probe port {number} is not among the image's exposed ports "
                            f"({', '.join(map(str, sorted(exposed))) or 'none'})")
    return problems


# Our health-path label convention: the image states the HTTP paths it serves its probes on, so a
# manifest whose probes ask elsewhere is caught before the kubelet restarts the pod in a loop.
HEALTH_LABELS = {"livenessProbe": "org.cdb.health.liveness", "readinessProbe": "org.cdb.health.readiness",
                 "startupProbe": "org.cdb.health.startup"}


def health_paths_match(image: Image, workload: Workload | None) -> list[str]:
    if workload is None:
        return []
    labels = image.runtime.get("Labels") or {}
    problems = []
    for probe, label in HEALTH_LABELS.items():
        declared = labels.get(label)
        if declared is None:
            continue
        used = workload.probe_paths.get(probe)
        if used is None:
            problems.append(f"image label {label}={declared} but the workload has no httpGet {probe}")
        elif used != declared:
            problems.append(f"{probe} asks {used}, the image's label {label} says {declared}")
    return problems


PER_WORKLOAD = (("image-runs-as-root", runs_as_root), ("image-volume-in-stateless", volume_in_stateless),
                ("image-probe-port-not-exposed", probe_ports_exposed),
                ("image-health-path-mismatch", health_paths_match))


def _layer_tar(data: bytes, where: str) -> tarfile.TarFile:
    try:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        return tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise ImageError(f"{where}: a layer is not a readable tar ({exc})") from None


OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Whiteout:
    """A deletion a layer records: `.wh.NAME` hides NAME (a file, or a folder with all under it);
    `.wh..wh..opq` in a folder hides everything the lower layers put under that folder."""

    layer: int
    path: PurePosixPath  # what is hidden: the file or folder, or the opaque folder ("." for the root)
    opaque: bool

    def hides(self, path: PurePosixPath) -> bool:
        if self.opaque:
            return str(self.path) == "." or self.path in path.parents
        return path == self.path or self.path in path.parents

    def how(self) -> str:
        if self.opaque:
            return f"an opaque whiteout of /{'' if str(self.path) == '.' else self.path}"
        return f"a whiteout of /{self.path}"


def hidden_by(whiteouts: list[Whiteout], layer: int, path: PurePosixPath) -> Whiteout | None:
    """The first later layer's whiteout that hides `path` as `layer` added it."""
    later = [w for w in whiteouts if w.layer > layer and w.hides(path)]
    return min(later, key=lambda w: w.layer) if later else None


def _unpack(image: Image, folder: Path) -> list[Whiteout]:
    """Regular files of each layer under folder/layerN/...; returns the whiteouts of every layer."""
    whiteouts: list[Whiteout] = []
    unreadable: list[str] = []
    for number, layer in enumerate(image.layers):
        with _layer_tar(layer.data, image.name) as tar:
            for member in tar.getmembers():
                path = PurePosixPath(member.name.removeprefix("./").lstrip("/"))
                if ".." in path.parts or not path.parts or str(path) == ".":
                    continue
                if path.name == OPAQUE:
                    whiteouts.append(Whiteout(number, path.parent, opaque=True))
                    continue
                if path.name.startswith(".wh."):
                    whiteouts.append(Whiteout(number, path.parent / path.name[4:], opaque=False))
                    continue
                if member.isfile() and member.size <= _FILE_BOUND:
                    target = folder / f"layer{number}" / path
                    handle = tar.extractfile(member)
                    try:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(handle.read() if handle else b"")
                    except OSError:  # a path both file and folder in one layer: not a real image's layout
                        unreadable.append(f"/{path} (layer {number})")
    if unreadable:
        raise ImageError(f"{image.name}: layer files that cannot be unpacked for the secret scan: "
                         f"{', '.join(unreadable[:5])}")
    return whiteouts


def credentials(image: Image) -> list[tuple[str, str]]:
    """(rule, message) for each secret in ENV, labels and layer files; values are never shown."""
    from cdb_ops.scan import scan

    found: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "config"
        config.mkdir()
        env = [str(e) for e in image.runtime.get("Env") or []]
        labels = [f"{k}={v}" for k, v in (image.runtime.get("Labels") or {}).items()]
        (config / "ENV").write_text("\n".join(env) + "\n")
        (config / "LABELS").write_text("\n".join(labels) + "\n")
        whiteouts = _unpack(image, folder / "files")
        paths = [p for p in folder.rglob("*") if p.is_file()]
        result = scan(paths, root=folder, allowlist_path=folder / "none.yaml", full_repository=False)
        for finding in result.findings:
            where = PurePosixPath(finding.path)
            if where.parts[0] == "config":
                found.append(("image-credential", f"{finding.detector} in image {where.name} line {finding.line}"))
                continue
            layer, inner = int(where.parts[1][len("layer"):]), PurePosixPath(*where.parts[2:])
            hidden = hidden_by(whiteouts, layer, inner)
            if hidden is not None:
                found.append(("image-credential-in-lower-layer", f"{finding.detector} in /{inner} added in layer {layer} and "
                              f"deleted in layer {hidden.layer} by {hidden.how()}: still readable from layer {layer}"))
            else:
                found.append(("image-credential", f"{finding.detector} in /{inner} (layer {layer}) line {finding.line}"))
    return found


CREDENTIAL_RULES = ("image-credential", "image-credential-in-lower-layer")


def checks_applied(workloads: list[Workload]) -> tuple[str, ...]:
    """The rules judge() applies: the per-workload ones only when a workload runs the image."""
    return tuple(sorted(CREDENTIAL_RULES + (tuple(rule for rule, _ in PER_WORKLOAD) if workloads else ())))


def judge(image: Image, workloads: list[Workload]) -> list[Finding]:
    findings = []
    secrets = credentials(image)
    for workload in workloads or [None]:
        label = workload.label if workload else "(no workload named)"
        source = workload.source if workload else ""
        for rule, check in PER_WORKLOAD:
            findings += [Finding(image.name, label, rule, message, CLAUSE, source)
                         for message in check(image, workload)]
        findings += [Finding(image.name, label, rule, message, CLAUSE, source) for rule, message in secrets]
    return sorted(set(findings))


def pinning(name: str, digest: str, locked: dict[str, Entry], workload: str, stack: str,
            source: str = "") -> list[Finding]:
    """In a stack that requires pinning: the image runs at a digest images.lock records as checked."""
    key, pinned = key_of(name)
    recorded = locked.get(key)
    refresh = REFRESH.format(stack=stack or "STACK")
    if recorded is None:
        return [Finding(name, workload, "image-not-pinned",
                        f"no checked digest in images.lock: it resolves to {digest} now; check and record it with "
                        f"`{refresh}`, then render again", CLAUSE, source)]
    if pinned is not None:  # the reader verified the manifest it read against this digest
        return [] if pinned == recorded.platform_digest else [Finding(
            name, workload, "image-not-pinned", f"runs at {pinned}, but images.lock checked "
            f"{recorded.platform_digest}; run `{refresh}` and render again", CLAUSE, source)]
    if recorded.digest != digest:
        return [Finding(name, workload, "image-digest-changed",
                        f"tag now resolves to {digest}, images.lock recorded {recorded.digest}: what runs is not what "
                        f"was checked; check it again with `{refresh}`", CLAUSE, source)]
    return []
