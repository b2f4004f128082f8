"""The audit log's home: an S3-compatible bucket with Object Lock (the stack's WORM bucket on MinIO).

Configuration comes from the environment only, never from the repository:
  CDB_AUDIT_ENDPOINT        e.g. https://minio.storage.svc:9000 (unset: AWS S3)
  CDB_AUDIT_BUCKET          bucket created with Object Lock enabled (required)
  CDB_AUDIT_PREFIX          key prefix (default `cdb-audit/`)
  CDB_AUDIT_RETENTION_DAYS  COMPLIANCE retention per record (default 2555, seven years)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION (boto3's standard chain)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cdb_core.errors import CdbError

DEFAULT_PREFIX = "cdb-audit/"
DEFAULT_RETENTION_DAYS = 2555
LOCK_MODE = "COMPLIANCE"


class StoreUnavailable(CdbError):
    """The store could not be reached or refused the request; records stay in the spool."""


class StoreConflict(Exception):
    """Another writer took the sequence number first (conditional put failed)."""


@dataclass(frozen=True)
class StoreSettings:
    endpoint: str | None
    bucket: str
    prefix: str
    retention_days: int
    region: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "StoreSettings":
        env = dict(os.environ if env is None else env)
        bucket = env.get("CDB_AUDIT_BUCKET", "").strip()
        if not bucket:
            raise CdbError("CDB_AUDIT_BUCKET is not set; export the audit bucket name (and CDB_AUDIT_ENDPOINT "
                           "for MinIO) in the environment, never in the repository")
        raw_days = env.get("CDB_AUDIT_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS)).strip()
        if not raw_days.isdigit() or int(raw_days) < 1:
            raise CdbError(f"CDB_AUDIT_RETENTION_DAYS={raw_days!r}: give a whole number of days >= 1")
        prefix = env.get("CDB_AUDIT_PREFIX", DEFAULT_PREFIX).strip().lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(endpoint=env.get("CDB_AUDIT_ENDPOINT", "").strip() or None, bucket=bucket, prefix=prefix,
                   retention_days=int(raw_days), region=env.get("AWS_DEFAULT_REGION", "").strip() or "us-east-1")

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint or 'AWS S3'}"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Records under `<prefix>records/<seq, 12 digits>.json`: key order is chain order."""

    def __init__(self, settings: StoreSettings, client: Any | None = None):
        self.settings = settings
        # Fail fast: a CI job must not hang on an unreachable store; the record is spooled instead.
        self.client = client or boto3.client(
            "s3", endpoint_url=settings.endpoint, region_name=settings.region,
            config=Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"},
                          s3={"addressing_style": "path"}))

    def key(self, seq: int) -> str:
        return f"{self.settings.prefix}records/{seq:012d}.json"

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(Bucket=self.settings.bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(what, exc) from exc

    def _failure(self, what: str, exc: ClientError | BotoCoreError) -> Exception:
        if isinstance(exc, BotoCoreError):
            return StoreUnavailable(f"{self.settings.where}: {what} failed ({exc})")
        if _error_code(exc) in ("PreconditionFailed", "412"):
            return StoreConflict(what)
        return StoreUnavailable(f"{self.settings.where}: {what} refused ({_error_code(exc) or exc})")

    def require_object_lock(self) -> None:
        """A bucket without Object Lock is not WORM: refuse to pretend the log is tamper-evident."""
        config = self._call("reading the Object Lock configuration", self.client.get_object_lock_configuration)
        if config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise StoreUnavailable(f"{self.settings.where}: Object Lock is not enabled on the bucket; create it "
                                   "with Object Lock (MinIO: `mc mb --with-lock`)")

    def _pages(self, what: str, operation: str) -> Iterator[dict[str, Any]]:
        """Every page of a listing under the records prefix, through boto3's paginator (it follows the
        continuation token or the key and version markers the operation uses); errors as for one call."""
        pages = self.client.get_paginator(operation).paginate(
            Bucket=self.settings.bucket, Prefix=f"{self.settings.prefix}records/")
        try:
            yield from pages
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(what, exc) from exc

    def list_keys(self) -> list[str]:
        return sorted(item["Key"] for page in self._pages("listing records", "list_objects_v2")
                      for item in page.get("Contents", []))

    def version_counts(self) -> dict[str, int]:
        """More than one version of a record key means someone wrote over it (the old one stays locked)."""
        counts: dict[str, int] = {}
        for page in self._pages("listing record versions", "list_object_versions"):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                counts[item["Key"]] = counts.get(item["Key"], 0) + 1
        return counts

    def get(self, key: str) -> bytes:
        return self._call(f"reading {key}", self.client.get_object, Key=key)["Body"].read()

    def find(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        try:
            return self.client.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise StoreUnavailable(f"{self.settings.where}: reading {key} refused ({_error_code(exc) or exc})") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"{self.settings.where}: reading {key} failed ({exc})") from exc

    def lock_of(self, key: str) -> tuple[str | None, datetime | None]:
        head = self._call(f"reading the lock of {key}", self.client.head_object, Key=key)
        return head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")

    def put_locked(self, key: str, body: bytes, now: datetime | None = None) -> None:
        retain_until = (now or datetime.now(timezone.utc)) + timedelta(days=self.settings.retention_days)
        # IfNoneMatch makes the write conditional: two writers cannot both claim the same sequence number.
        self._call(f"writing {key}", self.client.put_object, Key=key, Body=body, IfNoneMatch="*",
                   ContentType="application/json", ObjectLockMode=LOCK_MODE,
                   ObjectLockRetainUntilDate=retain_until)
