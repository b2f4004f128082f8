"""Whole system, admission: every pod the stack will run meets its namespace's Pod Security level.

Pod Security admission refuses a pod whose namespace's ``pod-security.kubernetes.io/enforce`` level it
breaks; for a Deployment that means a ReplicaSet that never gets pods, for an operator's pods a
FluxInstance that never becomes Ready. The pods operators create are judged too (rules/helpers/operators.py).
A namespace without the label (or not in the stack) is left to the cluster's default and not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy import Severity

from .helpers.access import get
from .helpers.conventions import PSA_ENFORCE_LABEL
from .helpers.metadata import StackRule
from .helpers.objects import objects
from .helpers.operators import stack_pods
from .helpers.pss import LEVELS, failures

NAMESPACE = (("core", "Namespace"),)


def check_admission(resources: Sequence[Any]) -> Iterator[tuple[str, str | None]]:
    levels: dict[str, str] = {}
    for namespace in objects(resources, NAMESPACE):
        level = get(namespace.labels, PSA_ENFORCE_LABEL)
        if level is None or not namespace.name:
            continue
        if level not in LEVELS:
            yield (f'{namespace.label}: label {PSA_ENFORCE_LABEL}="{level}" is not one of {", ".join(LEVELS)}; '
                   "the API server refuses it", namespace.urn)
            continue
        levels[namespace.name] = level
    for pod in stack_pods(resources):
        level = levels.get(pod.workload.namespace or "default")
        if level is None:
            continue
        for control, detail in failures(pod.template, level):
            yield (f"{pod.label}: refused by Pod Security admission in namespace {pod.workload.namespace} "
                   f"({PSA_ENFORCE_LABEL}={level}): {control}: {detail}; change the pod to meet {level} "
                   "(patch upstream pod specs in the component that installs them)", pod.urn)


ADMISSION = StackRule(
    name="system-pod-security-admission",
    description="Every pod the stack runs, operators' pods included, meets its namespace's Pod Security level.",
    clause="5",
    specification="Nicht-konforme Services sind nicht mergefähig.",
    severity=Severity.HIGH,
    remediation=(
        "Make every pod template (and the pods operators create) meet the Pod Security Standards level in its "
        f"namespace's {PSA_ENFORCE_LABEL} label: for restricted, runAsNonRoot: true, allowPrivilegeEscalation: "
        'false, capabilities.drop: ["ALL"], seccompProfile RuntimeDefault and only restricted volume types; '
        "for baseline, no host namespaces, hostPath, hostPort, privileged containers or extra capabilities."
    ),
    tags=("pod-security-standards", "whole-system"),
    check=check_admission,
)

RULES = [ADMISSION]
