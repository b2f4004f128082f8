"""A small read-only Kubernetes API client over urllib: list calls with a bearer token, no kubeconfig.

In a pod the defaults are the service account's: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
the token at /var/run/secrets/kubernetes.io/serviceaccount/token and the CA bundle next to it.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdb_core.errors import CdbError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeUnavailable(CdbError):
    """The API server could not be asked (connection, TLS, authentication, missing API)."""


@dataclass(frozen=True)
class KubeSettings:
    server: str
    token: str | None
    ca_file: Path | None
    timeout: float = 15.0


def resolve_settings(server: str | None, token_file: Path | None, ca_file: Path | None,
                     env: dict[str, str] | None = None) -> KubeSettings:
    """Flags first, then CDB_KUBE_API_SERVER / CDB_KUBE_TOKEN, then the in-cluster service account."""
    env = dict(os.environ if env is None else env)
    if not server:
        server = env.get("CDB_KUBE_API_SERVER")
    if not server and env.get("KUBERNETES_SERVICE_HOST"):
        host = env["KUBERNETES_SERVICE_HOST"]
        host = f"[{host}]" if ":" in host else host
        server = f"https://{host}:{env.get('KUBERNETES_SERVICE_PORT', '443')}"
    if not server:
        raise CdbError("no API server: pass --api-server URL, set CDB_KUBE_API_SERVER, or run in a pod")
    token = None
    if token_file is not None:
        token = _read_token(token_file)
    elif env.get("CDB_KUBE_TOKEN"):
        token = env["CDB_KUBE_TOKEN"].strip()
    elif (SERVICE_ACCOUNT / "token").is_file():
        token = _read_token(SERVICE_ACCOUNT / "token")
    if ca_file is None and (SERVICE_ACCOUNT / "ca.crt").is_file() and server.startswith("https://"):
        ca_file = SERVICE_ACCOUNT / "ca.crt"
    return KubeSettings(server=server.rstrip("/"), token=token, ca_file=ca_file)


def _read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CdbError(f"{path}: cannot read the token file ({exc.strerror})") from exc
    if not token:
        raise CdbError(f"{path}: the token file is empty")
    return token


class KubeClient:
    def __init__(self, settings: KubeSettings):
        self.settings = settings
        self._context = None
        if settings.server.startswith("https://"):
            try:
                self._context = ssl.create_default_context(
                    cafile=str(settings.ca_file) if settings.ca_file else None)
            except (OSError, ssl.SSLError) as exc:
                raise CdbError(f"{settings.ca_file}: cannot load the CA bundle ({exc})") from exc

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        url = f"{self.settings.server}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.settings.token:
            request.add_header("Authorization", f"Bearer {self.settings.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout, context=self._context) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            hint = {401: "the token was refused", 403: "the identity may not list this resource (RBAC)",
                    404: "the API is not served (is the CRD installed?)"}.get(exc.code, "unexpected answer")
            raise KubeUnavailable(f"GET {path}: HTTP {exc.code}: {hint}") from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise KubeUnavailable(f"{self.settings.server}: cannot reach the API server ({reason})") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KubeUnavailable(f"GET {path}: the answer is not JSON") from exc

    def list(self, group_version: str, plural: str, namespace: str | None = None,
             label_selector: str | None = None) -> list[dict[str, Any]]:
        """All items of a list endpoint, following `metadata.continue` pages."""
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        path = f"{base}/namespaces/{urllib.parse.quote(namespace)}/{plural}" if namespace else f"{base}/{plural}"
        query: dict[str, str] = {"limit": "500"}
        if label_selector:
            query["labelSelector"] = label_selector
        items: list[dict[str, Any]] = []
        while True:
            page = self._get(path, query)
            if not isinstance(page.get("items"), list):
                raise KubeUnavailable(f"GET {path}: the answer is not a list (no `items`)")
            items.extend(page["items"])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token
