"""Ed25519 signatures on audit records, so write access to the bucket is not enough to extend the log.

The hash chain shows that records were not changed, removed or reordered; it cannot show who
appended the newest ones. Every record therefore carries the id of the signing key and an Ed25519
signature over its hash; `cdb audit verify` accepts only keys listed in the repository.

  private key   CDB_AUDIT_SIGNING_KEY (PEM text, e.g. a CI secret), CDB_AUDIT_SIGNING_KEY_FILE (path
                to the PEM file, e.g. an OpenBao agent template), or CDB_AUDIT_SIGNING_KEY_VAULT
                (`<kv-v2 mount>/<path>#<field>`, read from OpenBao/Vault at VAULT_ADDR with
                VAULT_TOKEN); never in the repository
  public keys   CDB_AUDIT_PUBLIC_KEYS (path) or keys/audit-signing.pub of the repository: one
                OpenSSH line `ssh-ed25519 AAAA... comment` per trusted key (several during a rotation)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cdb_core.errors import CdbError

DEFAULT_PUBLIC_KEYS = Path(__file__).resolve().parents[2] / "keys" / "audit-signing.pub"
_SETUP = "see README, section audit log: signing key"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.key.public_key())

    def sign(self, record_hash: str) -> str:
        return base64.b64encode(self.key.sign(record_hash.encode())).decode()


def load_signer(env: dict[str, str] | None = None) -> Signer:
    env = dict(os.environ if env is None else env)
    text, where = env.get("CDB_AUDIT_SIGNING_KEY", ""), "CDB_AUDIT_SIGNING_KEY"
    if not text.strip() and env.get("CDB_AUDIT_SIGNING_KEY_FILE", "").strip():
        where = env["CDB_AUDIT_SIGNING_KEY_FILE"].strip()
        try:
            text = Path(where).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CdbError(f"CDB_AUDIT_SIGNING_KEY_FILE={where}: cannot read the signing key ({exc}); "
                           f"{_SETUP}") from None
    if not text.strip() and env.get("CDB_AUDIT_SIGNING_KEY_VAULT", "").strip():
        where = env["CDB_AUDIT_SIGNING_KEY_VAULT"].strip()
        text = _from_vault(where, env)
    if not text.strip():
        raise CdbError("no audit signing key: set CDB_AUDIT_SIGNING_KEY_FILE (or CDB_AUDIT_SIGNING_KEY) from "
                       f"the secret manager; records stay spooled until then; {_SETUP}")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CdbError(f"{where}: not an unencrypted PEM private key; create one with `cdb audit keygen`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CdbError(f"{where}: the audit signing key must be Ed25519; create one with `cdb audit keygen`")
    return Signer(key)


def _from_vault(ref: str, env: dict[str, str]) -> str:
    """One field of a KV v2 secret from OpenBao/Vault's HTTP API (`secret/cdb/audit-signing#private_key`)."""
    path, _, field = ref.partition("#")
    mount, _, name = path.strip("/").partition("/")
    address = (env.get("VAULT_ADDR") or env.get("BAO_ADDR") or "").rstrip("/")
    token = env.get("VAULT_TOKEN") or env.get("BAO_TOKEN") or ""
    where = f"CDB_AUDIT_SIGNING_KEY_VAULT={ref}"
    if not (mount and name and field and address and token):
        raise CdbError(f"{where}: give <kv-v2 mount>/<path>#<field> and set VAULT_ADDR and VAULT_TOKEN")
    request = urllib.request.Request(f"{address}/v1/{mount}/data/{name}", headers={"X-Vault-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            value = json.loads(answer.read())["data"]["data"][field]
    except urllib.error.HTTPError as exc:
        raise CdbError(f"{where}: {address} answered HTTP {exc.code}; check the token's policy and the path") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CdbError(f"{where}: cannot read the signing key from {address} ({exc!r})") from None
    if not isinstance(value, str):
        raise CdbError(f"{where}: field {field!r} is not a PEM text")
    return value


def load_trusted_keys(env: dict[str, str] | None = None) -> dict[str, Ed25519PublicKey]:
    """The trusted public keys by key id. None at all is an error: verify must not pass unsigned."""
    env = dict(os.environ if env is None else env)
    path = Path(env.get("CDB_AUDIT_PUBLIC_KEYS", "").strip() or DEFAULT_PUBLIC_KEYS)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CdbError(f"{path}: cannot read the trusted audit public keys ({exc}); set CDB_AUDIT_PUBLIC_KEYS; "
                       f"{_SETUP}") from None
    keys: dict[str, Ed25519PublicKey] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            key = serialization.load_ssh_public_key(line.strip().encode())
        except (ValueError, UnsupportedAlgorithm):
            raise CdbError(f"{path}:{number}: not an OpenSSH public key line (ssh-ed25519 AAAA... comment)") from None
        if not isinstance(key, Ed25519PublicKey):
            raise CdbError(f"{path}:{number}: only ssh-ed25519 keys can sign audit records")
        keys[key_id(key)] = key
    if not keys:
        raise CdbError(f"{path}: no trusted audit public key; {_SETUP}")
    return keys


def signature_problem(keys: dict[str, Ed25519PublicKey], record_key_id: object, record_hash: str,
                      signature: object) -> str | None:
    """None when the signature over the hash is valid and made by a trusted key."""
    public = keys.get(record_key_id) if isinstance(record_key_id, str) else None
    if public is None:
        return f"signed by key {record_key_id!r}, which is not a trusted audit key: forged or unknown writer"
    try:
        public.verify(base64.b64decode(str(signature), validate=True), record_hash.encode())
    except (InvalidSignature, binascii.Error, ValueError):
        return f"signature does not verify with trusted key {record_key_id}: forged"
    return None


def generate(private_path: Path, public_path: Path, comment: str) -> str:
    """A new key pair: the private key (mode 0600, never commit it) and the public line appended."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CdbError(f"{private_path}: exists; never overwrite a signing key (move it away first)") from None
    except OSError as exc:
        raise CdbError(f"{private_path}: cannot write the private key ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    with public_path.open("a", encoding="utf-8") as handle:
        handle.write(f"{line.decode()} {comment}\n")
    return key_id(key.public_key())
