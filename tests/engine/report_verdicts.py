"""Hand-built verdicts for the report tests: a preview tree, a check run, and the edge cases."""

from __future__ import annotations

from cdb_engine.model import Finding, PackMeta, PolicyMeta, Resource, SourceLocation, Verdict

STACK_URN = "urn:pulumi:dev::cdb-infra::pulumi:pulumi:Stack::cdb-infra-dev"
ZONE_URN = "urn:pulumi:dev::cdb-infra::cdb:index:Zone::core"
NS_URN = "urn:pulumi:dev::cdb-infra::cdb:index:Zone$kubernetes:core/v1:Namespace::core"
DEPLOY_URN = "urn:pulumi:dev::cdb-infra::cdb:index:Zone$kubernetes:apps/v1:Deployment::core/api"
SVC_URN = "urn:pulumi:dev::cdb-infra::cdb:index:Zone$kubernetes:core/v1:Service::core/api"
CHART_URN = "urn:pulumi:dev::cdb-infra::kubernetes:helm.sh/v4:Chart::loki"

NON_ROOT = PolicyMeta(
    name="pods-run-as-non-root", description="Containers must not run as root.", enforcement="mandatory",
    severity="high", clause="5", kind="resource", remediation="Set runAsNonRoot: true.",
    url="https://github.com/cdb/cdb-infra/blob/main/docs/policies.md#pods-run-as-non-root",
)
PROBES = PolicyMeta(
    name="workloads-have-probes", description="Workloads declare readiness and liveness probes.",
    enforcement="mandatory", severity="medium", clause="5", kind="resource",
    remediation="Add readinessProbe and livenessProbe.",
    url="https://github.com/cdb/cdb-infra/blob/main/docs/policies.md#workloads-have-probes",
)
SERVICE_TYPE = PolicyMeta(
    name="services-are-cluster-internal", description="Services are ClusterIP.", enforcement="advisory",
    severity="low", clause="3.1", kind="resource",
)
FLUX_ALERT = PolicyMeta(
    name="flux-alerts-persisted", description="A Flux Alert persists all events.", enforcement="mandatory",
    severity="critical", clause="2.3", kind="stack", url="https://example.invalid/docs#flux",
)
PACK = PackMeta(name="cdb-infra-policy", version="0.1.0", path="policy_pack",
                policies=(NON_ROOT, PROBES, SERVICE_TYPE, FLUX_ALERT))


def finding(policy: PolicyMeta, urn: str, message: str, enforcement: str | None = None) -> Finding:
    return Finding(
        policy=policy.name, enforcement=enforcement or policy.enforcement, severity=policy.severity,
        clause=policy.clause, urn=urn, message=message, description=policy.description,
    )


def preview_resources() -> list[Resource]:
    def res(urn: str, type_: str, name: str, parent: str | None, **kw: object) -> Resource:
        return Resource(urn=urn, type=type_, name=name, custom=type_.startswith("kubernetes:"),
                        properties={}, parent=parent, **kw)  # type: ignore[arg-type]
    return [
        res(STACK_URN, "pulumi:pulumi:Stack", "cdb-infra-dev", None),
        res(ZONE_URN, "cdb:index:Zone", "core", STACK_URN, source=SourceLocation("cdb_stack/stack.py", 42)),
        res(NS_URN, "kubernetes:core/v1:Namespace", "core", ZONE_URN),
        res(DEPLOY_URN, "kubernetes:apps/v1:Deployment", "core/api", ZONE_URN),
        res(SVC_URN, "kubernetes:core/v1:Service", "core/api", ZONE_URN),
        res(CHART_URN, "kubernetes:helm.sh/v4:Chart", "loki", STACK_URN, remote=True),
    ]


def preview_verdict() -> Verdict:
    return Verdict(
        mode="preview", project="cdb-infra", stack="dev", resources=preview_resources(), pack=PACK,
        violations=[
            finding(PROBES, DEPLOY_URN, "spec.template.spec.containers[0].readinessProbe is missing"),
            finding(NON_ROOT, DEPLOY_URN, "spec.template.spec.securityContext.runAsNonRoot must be true"),
            finding(SERVICE_TYPE, SVC_URN, "spec.type is LoadBalancer"),
            finding(FLUX_ALERT, STACK_URN, "no Alert covers all Flux sources\nadd one at info severity"),
        ],
        unchecked=[finding(NON_ROOT, SVC_URN, "can't run policy 'pods-run-as-non-root' from policy pack "
                           "'cdb-infra-policy@v0.1.0' during preview: string value at .spec.type can't be "
                           "known during preview", enforcement="advisory")],
    )


def check_verdict() -> Verdict:
    urn = "urn:pulumi:check::manifests::kubernetes:apps/v1:Deployment::team/web"
    resource = Resource(urn=urn, type="kubernetes:apps/v1:Deployment", name="team/web", custom=True,
                        properties={}, source=SourceLocation("deploy/base/web.yaml", 3))
    return Verdict(mode="check", project="manifests", stack="check", resources=[resource], pack=PACK,
                   violations=[finding(NON_ROOT, urn, "runAsNonRoot must be true")])
