"""One image-reference parser on our side (components/image_ref.py), the pack's own copy held equal to
it, and one set of digest algorithms everywhere: sha256 and sha512, as the OCI image-spec registers."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cdb_stack.images.model import ImageError, check_digest, verify
from cdb_release.images.registry import split_reference
from components import image_ref
from components.types import Image
from policy_pack.rules.helpers.images import DIGEST as PACK_DIGEST
from policy_pack.rules.helpers.images import TAG as PACK_TAG
from policy_pack.rules.k8s_images import image_problem, split_image

SHA256 = "sha256:" + hashlib.sha256(b"x").hexdigest()
SHA512 = "sha512:" + hashlib.sha512(b"x").hexdigest()
SHA384 = "sha384:" + hashlib.sha384(b"x").hexdigest()

SPLITS = [
    ("nats", ("nats", None, None)),
    ("nats:2.10-alpine", ("nats", "2.10-alpine", None)),
    ("registry:5000/app", ("registry:5000/app", None, None)),
    ("registry:5000/app:1.4.2", ("registry:5000/app", "1.4.2", None)),
    (f"ghcr.io/org/app:1.2@{SHA256}", ("ghcr.io/org/app", "1.2", SHA256)),
    (f"localhost:5000/org/app@{SHA512}", ("localhost:5000/org/app", None, SHA512)),
    ("app@", ("app", None, "")),
    ("app:", ("app", "", None)),
    ("", ("", None, None)),
    ("a@b@c", ("a", None, "b@c")),
]


@pytest.mark.parametrize(("ref", "parts"), SPLITS)
def test_ours_and_the_packs_copy_split_references_alike(ref, parts):
    assert tuple(image_ref.split(ref).__dict__.values()) == parts
    assert split_image(ref) == parts


DIGESTS = [(SHA256, True), (SHA512, True), (SHA384, False), ("sha256:" + "A" * 64, False),
           ("sha256:" + "a" * 63, False), ("sha512:" + "a" * 64, False), ("blake3:" + "a" * 64, False),
           (SHA256 + "0", False), ("", False)]  # fmt: skip


@pytest.mark.parametrize(("digest", "registered"), DIGESTS)
def test_the_component_the_pack_and_cdb_images_accept_the_same_digests(digest, registered):
    assert image_ref.is_digest(digest) is registered
    assert (image_problem(f"ghcr.io/org/app@{digest}") is None) is registered
    try:
        Image.model_validate(f"ghcr.io/org/app@{digest}")
        component = True
    except ValidationError as exc:
        assert "invalid digest; write '@sha256:' and 64, or '@sha512:' and 128" in str(exc)
        component = False
    assert component is registered
    try:
        check_digest(digest, "images.lock: app")
        reader = True
    except ImageError as exc:
        assert "is not a sha256 or sha512 digest" in str(exc)
        reader = False
    assert reader is registered


def test_cdb_images_verifies_content_under_the_digests_own_algorithm():
    assert verify(b"x", SHA512, "layer") == b"x"
    with pytest.raises(ImageError, match="has digest sha512:"):
        verify(b"y", SHA512, "layer")


def test_a_registry_reference_pinned_by_a_malformed_digest_is_refused_before_any_request():
    assert split_reference(f"nats@{SHA512}") == ("registry-1.docker.io", "library/nats", SHA512)
    assert split_reference("localhost:5000/org/app") == ("localhost:5000", "org/app", "latest")
    with pytest.raises(ImageError, match="malformed"):
        split_reference(f"nats@{SHA384}")


REFERENCE_ALPHABET = "abz09AZ:/@._-"
refs = st.one_of(
    st.text(alphabet=REFERENCE_ALPHABET, max_size=30),
    st.text(max_size=12),
    st.tuples(st.sampled_from(["", "ghcr.io/", "localhost:5000/", "a/b/"]), st.sampled_from(["app", "App", "a__b"]),
              st.sampled_from(["", ":1.2", ":latest", ":", ":v1.0\n", ":" + "x" * 129]),
              st.sampled_from(["", "@", f"@{SHA256}", f"@{SHA512}", f"@{SHA384}", f"@{SHA256[:-1]}",
                               f"@{SHA512.upper()}"])).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(refs)
@example(f"app:1.0@{SHA384}")
def test_the_packs_copy_equals_ours_on_generated_references(ref):
    ours = image_ref.split(ref)
    assert split_image(ref) == (ours.repository, ours.tag, ours.digest)
    for tag in (ours.tag, ref):
        assert (PACK_TAG.fullmatch(tag) is not None) == image_ref.is_tag(tag) if tag is not None else True
    for digest in (ours.digest, ref):
        assert (PACK_DIGEST.fullmatch(digest) is not None) == image_ref.is_digest(digest) if digest is not None else True
