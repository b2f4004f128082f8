"""`docker://REF`: the OCI distribution API through the oras SDK, which brings the usual auth
(Docker config `auths`, credential helpers and credsStore, the anonymous bearer-token flow)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import requests

from cdb_stack.images.model import INDEX_TYPES, MANIFEST_TYPES, ImageError, ImageRef
from components import image_ref

_LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")
_ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
_TIMEOUT = 30


def split_reference(target: str) -> tuple[str, str, str]:
    """registry, repository, tag-or-digest, with Docker Hub's defaults for short names."""
    parts = image_ref.split(target)
    registry, slash, repository = parts.repository.partition("/")
    if not slash or not ("." in registry or ":" in registry or registry == "localhost"):
        registry, repository = "docker.io", parts.repository
    if registry == "docker.io":
        registry = "registry-1.docker.io"
        if "/" not in repository:
            repository = "library/" + repository
    if not repository or repository != repository.lower():
        raise ImageError(f"{target}: not a valid repository name (lower-case registry/path[:tag][@digest])")
    if parts.digest is not None:
        if not image_ref.is_digest(parts.digest):
            raise ImageError(f"{target}: the digest {parts.digest!r} is malformed; {image_ref.DIGEST_HINT}")
        return registry, repository, parts.digest
    return registry, repository, parts.tag or "latest"


def auth_files() -> list[str]:
    """Credential files as skopeo and Docker look for them; oras alone reads only ~/.docker/config.json."""
    candidates = [os.environ.get("REGISTRY_AUTH_FILE")]
    if os.environ.get("XDG_RUNTIME_DIR"):
        candidates.append(str(Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"))
    candidates.append(str(Path.home() / ".config" / "containers" / "auth.json"))
    if os.environ.get("DOCKER_CONFIG"):
        candidates.append(str(Path(os.environ["DOCKER_CONFIG"]) / "config.json"))
    return [c for c in candidates if c and Path(c).is_file()]


class Registry:
    def __init__(self, ref: ImageRef, name: str):
        import oras.provider  # imported here: only registry reads need it

        self.name = name
        self.registry, self.repository, self.reference = split_reference(ref.target)
        # Plain HTTP only on loopback, as Docker treats localhost registries; everywhere else TLS.
        insecure = bool(_LOOPBACK.match(self.registry))
        self._base = f"{'http' if insecure else 'https'}://{self.registry}/v2/{self.repository}"
        # The API version check tells the auth scheme: oras's token backend reads any challenge as a
        # token realm, so a registry asking for Basic auth gets the basic backend.
        backend = "basic" if self._challenge(insecure).lower().startswith("basic") else "token"
        self._client = oras.provider.Registry(self.registry, insecure=insecure, auth_backend=backend)
        self._container = self._client.get_container(f"{self.registry}/{self.repository}:latest")
        self._load_credentials(auth_files())
        if backend == "basic" and not getattr(self._client.auth, "_basic_auth", None):
            helper = self._helper()
            if helper:
                raise ImageError(f"{name}: registry {self.registry} refused access: its credential helper "
                                 f"docker-credential-{helper} gave no credentials (missing from PATH, or it failed); "
                                 "log in again or fix the helper")
            raise ImageError(f"{name}: registry {self.registry} refused access: it asks for credentials and no "
                             "credential file has any for it; log in with `skopeo login` / `docker login`")
        self._client.session.request = _with_timeout(self._client.session.request)

    def _helper(self) -> str | None:
        """The credential helper the Docker config names for this registry (credHelpers, else credsStore)."""
        config = getattr(self._client.auth, "_auth_config", None) or {}
        return (config.get("credHelpers") or {}).get(self.registry) or config.get("credsStore")

    def _load_credentials(self, files: list[str]) -> None:
        try:
            self._client.auth.load_configs(self._container, configs=files)
        except (ValueError, KeyError, TypeError) as exc:
            # oras parses config files and helper answers with json.loads and indexes them unchecked.
            helper = self._helper()
            if helper:
                raise ImageError(f"{self.name}: credential helper docker-credential-{helper} answered no JSON "
                                 f"credentials for {self.registry} ({type(exc).__name__}); fix the helper or remove "
                                 "it from the Docker config") from None
            raise ImageError(f"{self.name}: a registry credential file is not valid JSON ({exc}); "
                             f"fix or remove it ({', '.join(files) or '~/.docker/config.json'})") from None

    def _challenge(self, insecure: bool) -> str:
        url = f"{'http' if insecure else 'https'}://{self.registry}/v2/"
        try:
            with requests.get(url, timeout=_TIMEOUT) as response:
                return response.headers.get("WWW-Authenticate", "")
        except requests.RequestException as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: requests.RequestException) -> ImageError:
        if isinstance(exc, requests.Timeout):
            return ImageError(f"{self.name}: registry {self.registry} did not answer within {_TIMEOUT} s")
        host = urlsplit(exc.request.url).netloc if exc.request is not None and exc.request.url else self.registry
        what = f"registry {self.registry}" if host == self.registry else f"the token service {host} of {self.registry}"
        return ImageError(f"{self.name}: {what} is unreachable; check the address and that it is running")

    def _get(self, url: str, headers: dict, stream: bool = False) -> requests.Response:
        # oras's do_request is wrapped in a retry that sleeps 3 s, 5 s, 11 s ... on every error: an
        # unreachable registry would take minutes to report. The unwrapped call keeps oras's auth flow.
        request = type(self._client).do_request.__wrapped__  # type: ignore[attr-defined]
        try:
            response = request(self._client, url, "GET", headers=dict(headers), stream=stream)
        except requests.RequestException as exc:
            raise self._unreachable(exc) from None
        except ValueError as exc:  # oras: "Cannot respond to request for authentication."
            raise ImageError(f"{self.name}: registry {self.registry} refused access ({exc}); log in with "
                             "`skopeo login` / `docker login` or fix the credentials in the Docker config") from None
        if response.status_code in (401, 403):
            raise ImageError(f"{self.name}: registry {self.registry} refused access (HTTP {response.status_code}); "
                             "log in with `skopeo login` / `docker login` or fix the Docker config credentials")
        if response.status_code == 404:
            raise ImageError(f"{self.name}: not found in {self.registry}/{self.repository}; check the name and tag")
        if response.status_code != 200:
            raise ImageError(f"{self.name}: registry {self.registry} answered HTTP {response.status_code} for {url}")
        return response

    def top(self) -> dict:
        response = self._get(f"{self._base}/manifests/{self.reference}", {"Accept": _ACCEPT})
        data = response.content
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        # A manifest pinned by digest is addressed under the pin's algorithm, so the reader can compare.
        algorithm = self.reference.partition(":")[0] if image_ref.is_digest(self.reference) else "sha256"
        digest = image_ref.content_digest(data, algorithm)
        # A tag names no digest to verify against, but the registry says which manifest it meant.
        stated = response.headers.get("Docker-Content-Digest", "")
        if stated.startswith(f"{algorithm}:") and stated != digest:
            raise ImageError(f"{self.name}: the registry stated manifest digest {stated} but sent content with digest "
                             f"{digest}; the content was altered or truncated, refusing it")
        self._manifests = {digest: data}
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def blob(self, digest: str, bound: int, manifest: bool = False) -> bytes:
        if digest in getattr(self, "_manifests", {}):
            return self._manifests[digest]
        kind = "manifests" if manifest else "blobs"
        response = self._get(f"{self._base}/{kind}/{digest}", {"Accept": _ACCEPT}, stream=True)
        chunks, total = [], 0
        for chunk in response.iter_content(1 << 20):
            total += len(chunk)
            if total > bound:
                response.close()
                raise ImageError(f"{self.name}: blob {digest} is over the bound of {bound} bytes; "
                                 "raise --max-layer-bytes to read it")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._client.session.close()


def _with_timeout(request):
    if getattr(request, "_cdb_timeout", False):
        return request

    def bounded(*args, **kwargs):
        kwargs.setdefault("timeout", _TIMEOUT)
        return request(*args, **kwargs)

    bounded._cdb_timeout = True  # type: ignore[attr-defined]
    return bounded
