"""Configuration sources of a container: env vars, ConfigMaps and Secrets (CDB_INFRA_POLICY clause 5).

A literal value is allowed only for a variable whose name does not look secret (clause 6): secret
values come from a Secret (delivered by Vault or a SealedSecret), never from code.
"""

import posixpath
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from components import conventions, defaults, names
from components.intent import Intent

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"env name {value!r} is invalid; use letters, digits, '_', '-' and '.', not starting with a digit")
    return value


def _mount_path(value: str) -> str:
    if not value.startswith("/") or value == "/" or ".." in value.split("/") or posixpath.normpath(value) != value:
        raise ValueError(f"mount path {value!r} must be a normalized absolute path other than '/', e.g. '/etc/app'")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
ObjectName = Annotated[str, AfterValidator(names.dns_subdomain)]
MountPath = Annotated[str, AfterValidator(_mount_path)]


class ConfigMapKeyRef(Intent):
    """One key of a ConfigMap as the value of one env var."""

    config_map: ObjectName = Field(description="ConfigMap name in the workload's namespace")
    key: str = Field(min_length=1, description="Key in the ConfigMap")

    def to_k8s(self) -> dict[str, Any]:
        return {"configMapKeyRef": {"name": self.config_map, "key": self.key}}


class SecretKeyRef(Intent):
    """One key of a Secret as the value of one env var (the only way to pass a secret by env)."""

    secret: ObjectName = Field(description="Secret name in the workload's namespace")
    key: str = Field(min_length=1, description="Key in the Secret")

    def to_k8s(self) -> dict[str, Any]:
        return {"secretKeyRef": {"name": self.secret, "key": self.key}}


class EnvVar(Intent):
    """One environment variable: a literal value (non-secret names only) or a ConfigMap/Secret key."""

    name: EnvName = Field(description="Variable name, e.g. 'LOG_LEVEL'")
    value: str | None = Field(default=None, description="Literal value; refused for secret-like names")
    config_map_key_ref: ConfigMapKeyRef | None = Field(default=None, description="Take the value from a ConfigMap key")
    secret_key_ref: SecretKeyRef | None = Field(default=None, description="Take the value from a Secret key")

    @model_validator(mode="after")
    def _one_source(self) -> "EnvVar":
        sources = [s for s in (self.value, self.config_map_key_ref, self.secret_key_ref) if s is not None]
        if len(sources) != 1:
            raise ValueError(
                f"env {self.name!r} needs exactly one of value, config_map_key_ref or secret_key_ref (got {len(sources)})"
            )
        if self.value is not None and conventions.is_secret_like_name(self.name):
            raise ValueError(
                f"env {self.name!r} looks like a secret but has a literal value; use "
                f"EnvVar.from_secret({self.name!r}, secret=..., key=...) so the value comes from a Secret"
            )
        return self

    @classmethod
    def literal(cls, name: str, value: str) -> "EnvVar":
        """A literal, non-secret value."""
        return cls(name=name, value=value)

    @classmethod
    def from_config_map(cls, name: str, config_map: str, key: str) -> "EnvVar":
        """The value of `key` in ConfigMap `config_map`."""
        return cls(name=name, config_map_key_ref={"config_map": config_map, "key": key})

    @classmethod
    def from_secret(cls, name: str, secret: str, key: str) -> "EnvVar":
        """The value of `key` in Secret `secret`."""
        return cls(name=name, secret_key_ref={"secret": secret, "key": key})

    @property
    def uses_secret(self) -> bool:
        return self.secret_key_ref is not None

    def to_k8s(self) -> dict[str, Any]:
        if self.value is not None:
            return {"name": self.name, "value": self.value}
        ref = self.config_map_key_ref or self.secret_key_ref
        assert ref is not None  # guaranteed by _one_source
        return {"name": self.name, "valueFrom": ref.to_k8s()}


class ConfigMapRef(Intent):
    """Every key of a ConfigMap as env vars (envFrom)."""

    config_map: ObjectName = Field(description="ConfigMap name in the workload's namespace")
    prefix: EnvName | None = Field(default=None, description="Prefix added to every variable name")

    def to_k8s(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"configMapRef": {"name": self.config_map}}
        if self.prefix:
            entry["prefix"] = self.prefix
        return entry


class SecretRef(Intent):
    """Every key of a Secret as env vars (envFrom)."""

    secret: ObjectName = Field(description="Secret name in the workload's namespace")
    prefix: EnvName | None = Field(default=None, description="Prefix added to every variable name")

    def to_k8s(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"secretRef": {"name": self.secret}}
        if self.prefix:
            entry["prefix"] = self.prefix
        return entry


class ConfigMapVolume(Intent):
    """A ConfigMap mounted read-only as files."""

    config_map: ObjectName = Field(description="ConfigMap name in the workload's namespace")
    mount_path: MountPath = Field(description="Absolute directory the keys appear in, e.g. '/etc/app'")

    def volume(self, name: str) -> dict[str, Any]:
        return {"name": name, "configMap": {"name": self.config_map, "defaultMode": defaults.CONFIG_FILE_MODE}}


class SecretVolume(Intent):
    """A Secret mounted read-only as files."""

    secret: ObjectName = Field(description="Secret name in the workload's namespace")
    mount_path: MountPath = Field(description="Absolute directory the keys appear in, e.g. '/var/run/secrets/app'")

    def volume(self, name: str) -> dict[str, Any]:
        return {"name": name, "secret": {"secretName": self.secret, "defaultMode": defaults.SECRET_FILE_MODE}}
