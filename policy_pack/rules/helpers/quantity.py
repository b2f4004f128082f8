"""Kubernetes resource quantities ("250m", "0.5", "1Gi", "1e3", or a JSON number) as exact decimals."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .access import shown

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}

# The upstream grammar: <signedNumber><suffix>, suffix binary, decimal SI, or a decimal exponent.
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity; the message says what was found."""


def parse_quantity(value: Any) -> Decimal:
    """The quantity as a Decimal in base units (cores, bytes); raises QuantityError when malformed."""
    if isinstance(value, bool):
        raise QuantityError(f"{shown(value)} is a boolean, not a quantity")
    if isinstance(value, (int, float)):
        # Numbers arrive as floats through protobuf Struct (1 -> 1.0); str() keeps 0.5 exact.
        number = Decimal(str(value))
        if not number.is_finite():
            raise QuantityError(f"{shown(value)} is not a finite quantity")
        return number
    if not isinstance(value, str):
        raise QuantityError(f"{shown(value)} is not a quantity")
    match = _QUANTITY.match(value.strip())
    if not match:
        raise QuantityError(f'"{value}" is not a quantity (expected e.g. "250m", "0.5", "512Mi", "1Gi")')
    try:
        number = Decimal(match["number"])
    except InvalidOperation as error:  # pragma: no cover - the regex admits only decimal literals
        raise QuantityError(f'"{value}" is not a quantity') from error
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))
