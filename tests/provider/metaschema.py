"""Pulumi's package metaschema (vendored, provider/metaschema) as a jsonschema validator."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import jsonschema
from jsonschema import _keywords, validators

METASCHEMA_DIR = Path(__file__).resolve().parents[2] / "provider" / "metaschema"


def _pattern(validator, pattern, instance, schema):  # type: ignore[no-untyped-def]
    # The metaschema's patterns are ECMA-262 (Go's validator reads them so): named groups are
    # spelled (?<name>...), which Python spells (?P<name>...). Lookbehinds (?<= (?<! are left alone.
    return _keywords.pattern(validator, re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern), instance, schema)


PackageValidator = validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})


@cache
def validator() -> jsonschema.protocols.Validator:
    """One for the session: it keeps the references it has resolved."""
    return PackageValidator(json.loads((METASCHEMA_DIR / "pulumi.json").read_text()))
