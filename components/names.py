"""Validators for Kubernetes names, label values and ports (messages say how to fix the value)."""

import re

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def dns_label(value: str) -> str:
    """A namespace, Service or port-free object name: RFC 1123 label, at most 63 characters."""
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name; use at most 63 lower-case letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return value


def dns_subdomain(value: str) -> str:
    """A ConfigMap/Secret name: RFC 1123 subdomain, at most 253 characters."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not a valid Kubernetes object name; use lower-case letters, digits, '-' and '.'"
        )
    return value


def label_value(value: str) -> str:
    """A label value: at most 63 characters of letters, digits, '-', '_' and '.'."""
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise ValueError(
            f"{value!r} is not a valid label value; use at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


def label_key(key: str) -> str:
    """A label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters."""
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or len(name) > 63 or not _LABEL_NAME.match(name):
        raise ValueError(f"{key!r} is not a valid label key; use 'prefix.example/name' or 'name'")
    return key


def labels(mapping: dict[str, str]) -> dict[str, str]:
    """Validate every key and value of a label map."""
    for key, value in mapping.items():
        label_key(key)
        label_value(value)
    return mapping


def annotations(mapping: dict[str, str]) -> dict[str, str]:
    """Validate the keys of an annotation map (values are free text)."""
    for key in mapping:
        label_key(key)
    return mapping


def port_number(value: int) -> int:
    """A TCP/UDP port number."""
    if not 1 <= value <= 65535:
        raise ValueError(f"port {value} is out of range; use 1-65535")
    return value


def port_name(value: str) -> str:
    """A named container port (IANA service name): at most 15 characters, at least one letter."""
    if len(value) > 15 or not _PORT_NAME.match(value) or not re.search("[a-z]", value) or "--" in value:
        raise ValueError(
            f"{value!r} is not a valid port name; use at most 15 lower-case letters, digits and '-'"
        )
    return value


def port(value: int | str) -> int | str:
    """A port given by number or by container port name."""
    return port_number(value) if isinstance(value, int) else port_name(value)
