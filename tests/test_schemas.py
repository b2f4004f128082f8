"""The session's shared schema validators answer exactly as the libraries' own one-shot calls."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest

from tests import schemas

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
        "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}},
}


def _outcome(validate, manifest, version):
    try:
        return "valid", validate(manifest, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        return "not found", str(exc)
    except kubernetes_validate.ValidationError as exc:
        return "invalid", exc.message, list(exc.path), exc.version


def _misspelt() -> dict:
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    return manifest


def _wrong_type() -> dict:
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["spec"]["replicas"] = "three"
    return manifest


CRD_OBJECT = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "x"}}


@pytest.mark.parametrize("manifest", [DEPLOYMENT, _misspelt(), _wrong_type(), CRD_OBJECT],
                         ids=["valid", "unknown-field", "wrong-type", "custom-resource"])
@pytest.mark.parametrize("version", ["1.33.0", "v1.35.0"])
def test_the_cached_kubernetes_validator_answers_as_kubernetes_validate(manifest, version):
    expected = _outcome(kubernetes_validate.validate, manifest, version)
    assert _outcome(schemas.kubernetes_validate, manifest, version) == expected
    assert _outcome(schemas.kubernetes_validate, manifest, version) == expected  # and again from the cache


def test_the_shared_sarif_validator_rejects_what_jsonschema_validate_rejects():
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "cdb"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(log, schemas.json_schema(schemas.SARIF_SCHEMA))
    with pytest.raises(jsonschema.ValidationError) as cached:
        schemas.sarif_validator().validate(log)
    assert cached.value.message == expected.value.message
    log["runs"][0]["results"][0]["level"] = "error"
    schemas.sarif_validator().validate(log)
    jsonschema.validate(log, schemas.json_schema(schemas.SARIF_SCHEMA))
