"""The pure parsers behind resources and image pinning, on the inputs users actually write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from policy_pack.rules.k8s_images import image_problem, split_image
from policy_pack.rules.helpers.quantity import QuantityError, parse_quantity

from .fixtures import DIGEST


@pytest.mark.parametrize(("text", "value"), [
    ("250m", Decimal("0.25")), ("0.5", Decimal("0.5")), ("1", Decimal(1)), (".5", Decimal("0.5")),
    ("1Gi", Decimal(2**30)), ("512Mi", Decimal(512 * 2**20)), ("1Ki", Decimal(1024)), ("1k", Decimal(1000)),
    ("1M", Decimal(10**6)), ("1e3", Decimal(1000)), ("1E-3", Decimal("0.001")), ("100n", Decimal("1e-7")),
    ("1.5Gi", Decimal("1.5") * 2**30), (1.0, Decimal(1)), (0.5, Decimal("0.5")), (2, Decimal(2)),
])
def test_quantities_parse_to_exact_base_units(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "lots", "1GB", "1 Gi", "Gi", "1.2.3", "0x10", "1mi", True, None, [1],
                                  float("inf"), float("nan")])
def test_malformed_quantities_raise_a_clear_error(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize(("image", "parts"), [
    ("nginx", ("nginx", None, None)),
    ("nginx:1.27", ("nginx", "1.27", None)),
    ("reg:5000/app", ("reg:5000/app", None, None)),
    ("reg:5000/team/app:2.0.1", ("reg:5000/team/app", "2.0.1", None)),
    (f"reg:5000/app@{DIGEST}", ("reg:5000/app", None, DIGEST)),
    (f"app:1.0@{DIGEST}", ("app", "1.0", DIGEST)),
])
def test_image_references_split_without_mistaking_a_registry_port_for_a_tag(image, parts):
    assert split_image(image) == parts


@pytest.mark.parametrize("image", ["nginx:1.27.2", "ghcr.io/cdb/web:v1.4.2", "reg:5000/app:2024-01-01_1",
                                   f"reg:5000/app@{DIGEST}", f"nginx:latest@{DIGEST}"])
def test_pinned_images_are_accepted(image):
    assert image_problem(image) is None


@pytest.mark.parametrize(("image", "fragment"), [
    ("nginx", "has no tag"), ("reg:5000/app", "has no tag"), ("nginx:latest", "uses the latest tag"),
    ("nginx:LATEST", "uses the latest tag"), ("nginx@sha256:abc", "malformed digest"),
    (f"nginx@{DIGEST.upper()}", "malformed digest"), ("nginx:", "invalid tag"), ("nginx:-x", "invalid tag"),
    ("", "image is missing"), (None, "image is missing"), (" nginx:1.0", "contains whitespace"),
])
def test_unpinned_images_are_rejected_with_the_reason(image, fragment):
    problem = image_problem(image)
    assert problem is not None and fragment in problem


def test_the_pack_takes_image_references_apart_in_one_module_only() -> None:
    # helpers/images.py is the pack's one parser and grammar (issue 16, item 6): no other module splits
    # a reference at its '@' or spells a digest algorithm's pattern.
    import re
    from pathlib import Path

    pack = Path(__file__).resolve().parents[2] / "policy_pack"
    parser = pack / "rules" / "helpers" / "images.py"
    own = re.compile(r"""partition\(["']@["']\)|sha(?:256|512):\[0-9a-f\]""")
    assert own.search(parser.read_text(encoding="utf-8"))
    elsewhere = [str(path.relative_to(pack)) for path in sorted(pack.rglob("*.py"))
                 if path != parser and own.search(path.read_text(encoding="utf-8"))]
    assert elsewhere == []
