"""Kubernetes resource quantities ("250m", "0.5", "256Mi", "1e3"), parsed exactly with Decimal."""

import re
from decimal import Decimal

_QUANTITY = re.compile(
    r"^(?P<number>\+?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
# Sub-unit suffixes make sense for CPU but are almost always a typo for memory ("256m" is 0.256 bytes).
_FRACTIONAL = ("n", "u", "m")


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity in base units; ValueError with a fix if it is not one."""
    match = _QUANTITY.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity; write e.g. '250m', '0.5', '1' or '256Mi'")
    number = Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number


def _suffix(text: str) -> str:
    match = _QUANTITY.match(text.strip())
    return (match["suffix"] or "") if match else ""


def cpu(text: str | int | float) -> str:
    """A positive CPU quantity, returned in canonical string form."""
    text = str(text)
    if parse_quantity(text) <= 0:
        raise ValueError(f"cpu {text!r} must be greater than zero; write e.g. '100m' or '1'")
    if _suffix(text) in _BINARY:
        raise ValueError(f"cpu {text!r} uses a byte suffix; write cores, e.g. '250m' or '2'")
    return text


def memory(text: str | int) -> str:
    """A positive memory quantity, returned in canonical string form; refuses the 'm' typo."""
    text = str(text)
    value = parse_quantity(text)
    if _suffix(text) in _FRACTIONAL:
        raise ValueError(
            f"memory {text!r} is a fraction of a byte; write '{text.strip()[:-1]}Mi' (mebibytes) or 'M'"
        )
    if value <= 0:
        raise ValueError(f"memory {text!r} must be greater than zero; write e.g. '256Mi' or '1Gi'")
    return text


def quantity(text: str | int) -> str:
    """Any non-negative quantity (quota and limit-range values)."""
    text = str(text)
    parse_quantity(text)
    return text
