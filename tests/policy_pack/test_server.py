"""The pack's own servicer (decode once per request) answers exactly as the SDK's servicer does."""

from __future__ import annotations

import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy import EnforcementLevel

from policy_pack import sdk_adapter
from policy_pack.rules import PACK_NAME, POLICIES
from policy_pack.server import Servicer, has_unknowns, struct_to_python

from .cases import CASES
from .harness import to_struct

from google.protobuf import json_format

pytestmark = pytest.mark.sdk_equality


def _both():
    args = dict(name=PACK_NAME, version="0.1.0", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
    return sdk_adapter.sdk_servicer(**args), Servicer(**args)


def _request(resource_type, props):
    return analyzer_pb2.AnalyzeRequest(type=resource_type, properties=to_struct(props), urn="urn:x", name="x")


def _all_cases():
    for policy, kinds in CASES.items():
        for kind, cases in kinds.items():
            for case in cases:
                yield pytest.param(case.resource, id=f"{policy}-{kind}-{case.label}")


@pytest.mark.parametrize("resource", list(_all_cases()))
def test_every_case_gets_the_same_answer_from_both_servicers(resource):
    sdk, ours = _both()
    request = _request(*resource)
    assert ours.Analyze(request, None) == sdk.Analyze(request, None)


def test_unknown_values_give_the_same_advisory_diagnostics():
    resource_type, props = next(iter(CASES["k8s-image-pinned"]["pass"])).resource
    props = dict(props)
    spec = dict(props["spec"])
    template = dict(spec["template"])
    pod = dict(template["spec"])
    pod["containers"] = [dict(pod["containers"][0], image=UNKNOWN)]
    template["spec"], spec["template"], props["spec"] = pod, template, spec
    sdk, ours = _both()
    request = _request(resource_type, props)
    theirs = sdk.Analyze(request, None)
    assert ours.Analyze(request, None) == theirs
    assert any("can't run policy" in d.message for d in theirs.diagnostics)


def test_struct_decoding_matches_the_sdks_json_format():
    value = {"a": 1, "b": [1.5, "x", None, True, {"c": []}], "d": {}, "e": False}
    struct = to_struct(value)
    assert struct_to_python(struct) == json_format.MessageToDict(struct)


def test_unknowns_are_found_at_any_depth():
    assert has_unknowns({"a": [{"b": UNKNOWN}]})
    assert not has_unknowns({"a": [{"b": "known"}], "n": 1.0})


def test_stack_analysis_gets_the_same_answer_from_both_servicers():
    sdk, ours = _both()
    resources = []
    for i, (policy, kinds) in enumerate(CASES.items()):
        resource_type, props = kinds["fail"][0].resource
        resources.append(
            analyzer_pb2.AnalyzerResource(type=resource_type, properties=to_struct(props), urn=f"urn:{i}", name=f"r{i}",
                                          parent="urn:0" if i else "")
        )
    request = analyzer_pb2.AnalyzeStackRequest(resources=resources)
    assert ours.AnalyzeStack(request, None) == sdk.AnalyzeStack(request, None)


def _deployment_request():
    resource_type, props = next(iter(CASES["k8s-image-pinned"]["pass"])).resource
    return _request(resource_type, props)


def test_a_configured_level_changes_the_answer_as_it_does_for_the_sdk():
    sdk, ours = _both()
    request = _deployment_request()
    assert ours.Analyze(request, None) == sdk.Analyze(request, None)  # fills the per-type plan
    disabled = analyzer_pb2.ConfigureAnalyzerRequest(
        policyConfig={"k8s-image-pinned": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.DISABLED)}
    )
    sdk.Configure(disabled, None)
    ours.Configure(disabled, None)
    answer = ours.Analyze(request, None)
    assert answer == sdk.Analyze(request, None)
    assert "k8s-image-pinned" not in {d.policyName for d in answer.diagnostics} | {
        n.policy_name for n in answer.not_applicable}


def test_secrets_in_properties_are_decoded_as_the_sdk_decodes_them():
    from policy_pack.sdk_adapter import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties

    from policy_pack.server import RequestProps, _decode

    value = {"data": {"token": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": "s3cr3t"}}, "n": 1}
    decoded = _decode(to_struct(value))
    assert isinstance(decoded, RequestProps)
    assert decoded == deserialize_properties(json_format.MessageToDict(to_struct(value))) == {
        "data": {"token": "s3cr3t"}, "n": 1.0}


def test_unknown_values_are_decoded_behind_the_sdks_checking_proxy():
    from policy_pack.sdk_adapter import UnknownValueError

    from policy_pack.server import _decode

    decoded = _decode(to_struct({"spec": {"image": UNKNOWN}}))
    with pytest.raises(UnknownValueError):
        decoded["spec"]["image"]


def test_a_requests_policies_share_one_pod_template_but_plain_data_gets_a_fresh_one():
    from policy_pack.rules.helpers.podspec import containers, find_pod_template
    from policy_pack.server import _decode

    request = _deployment_request()
    props = _decode(request.properties)
    template = find_pod_template(request.type, props)
    assert find_pod_template(request.type, props) is template
    assert containers(template) == containers(template) and containers(template) is not containers(template)
    plain = dict(props)
    assert find_pod_template(request.type, plain) is not find_pod_template(request.type, plain)
    assert find_pod_template(request.type, plain) == template


@pytest.mark.parametrize("resource", list(_all_cases()))
def test_plain_data_decodes_as_its_struct_would(resource):
    from policy_pack.server import _decode, decode_data

    _, props = resource
    from_struct, from_data = _decode(to_struct(props)), decode_data(props)
    assert type(from_data) is type(from_struct)
    assert dict(from_data) == dict(from_struct)


def test_plain_data_with_unknowns_and_integers_decodes_as_its_struct_would():
    from policy_pack.server import _decode, decode_data

    props = {"spec": {"replicas": 3, "image": UNKNOWN, "ports": (80,)}}
    from_struct, from_data = _decode(to_struct({"spec": {"replicas": 3, "image": UNKNOWN, "ports": [80]}})), decode_data(props)
    assert type(from_data) is type(from_struct)
    assert repr(from_data["spec"]["replicas"]) == repr(from_struct["spec"]["replicas"]) == "3.0"
