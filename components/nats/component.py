"""NatsJetStream: a clustered NATS server with JetStream on file storage, the NACK controller, and the
streams declared as NACK `Stream` custom resources generated from `StreamSpec`.

The StatefulSet is declared platform state (`event-bus`): it is the only kind of workload allowed to
claim volumes. Objects: ConfigMap (nats.conf), ServiceAccount, StatefulSet, headless and client
Services, PodDisruptionBudget, NetworkPolicies; the controller's ServiceAccount, Role, RoleBinding,
Deployment, PDB and NetworkPolicy; the NACK CRDs from the vendored crds.yml (typed, stamped); one Stream CR per stream.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions, defaults, upstream, vendored
from components.kube import check_name, child_opts, metadata
from components.network import client_egress_policies
from components.nats import config, nack, server
from components.nats.args import NatsJetStreamArgs, stream_resource_name
from components.service_args import service_name
from components.streams import NACK_API_VERSION, NACK_KIND
from components.base import Component, require_args

NATS_JETSTREAM_TYPE = "cdb:index:NatsJetStream"
ROLE = "event-bus"
PLATFORM_STATE = conventions.WORKLOAD_CLASS_PLATFORM_STATE
SERVICE = conventions.WORKLOAD_CLASS_SERVICE
STREAM_CLASS_LABEL = "cdb-infra.io/stream-class"  # shared with policy_pack/rules/helpers/conventions.py


class NatsJetStream(Component):
    """The event bus: NATS JetStream servers, the NACK controller and the declared streams."""

    TYPE = NATS_JETSTREAM_TYPE

    client_url: str
    stream_names: list[str]

    def __init__(self, name: str, args: NatsJetStreamArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        owner = f"NatsJetStream {name!r}"
        args = require_args(NatsJetStreamArgs, args, owner=owner)
        check_name(owner, "name", name, service_name)
        super().__init__(name, args.to_plain(), opts)
        ns, prov = args.namespace, args.provenance
        annotations = prov.annotations()
        labels = prov.labels(name=name, instance=name, component=ROLE, workload_class=PLATFORM_STATE)
        selector = {conventions.LABEL_NAME: name, conventions.LABEL_INSTANCE: name}
        self.client_url = nack.client_url(name, ns)

        def meta(object_name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
            return metadata(object_name, ns, labels, {**annotations, **(extra or {})})

        text = config.render(name, ns, args.replicas, args.max_file_store_bytes)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=meta(f"{name}-config"), data={config.CONFIG_FILE: text}, opts=child_opts(self)
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta(name), automount_service_account_token=False, opts=child_opts(self)
        )
        self.headless = k8s.core.v1.Service(
            f"{name}-headless", metadata=meta(config.headless_service(name)),
            spec=server.headless_service_spec(selector), opts=child_opts(self),
        )  # fmt: skip
        self.stateful_set = k8s.apps.v1.StatefulSet(
            name,
            metadata=meta(name, server.platform_state_annotations()),
            spec=server.stateful_set_spec(name, args, selector, labels, annotations, config.digest(text)),
            opts=child_opts(self, self.config_map, self.service_account, self.headless),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-svc", metadata=meta(name), spec=server.client_service_spec(selector), opts=child_opts(self)
        )
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(name), spec=server.pdb_spec(args.replicas, selector), opts=child_opts(self)
        )
        controller = self._controller(name, args, selector, annotations)
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(name),
            spec=server.server_network_policy_spec(args, selector, controller), opts=child_opts(self),
        )  # fmt: skip
        for zone, spec in client_egress_policies(args.client_from, ns, selector, (config.CLIENT_PORT,)):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-client-egress-{zone}", metadata=metadata(f"allow-{name}-client-egress", zone, labels, annotations),
                spec=spec, opts=child_opts(self),
            )  # fmt: skip
        self.stream_names = [spec.name for spec in args.streams]
        self.streams = [
            k8s.apiextensions.CustomResource(
                f"{name}-stream-{stream_resource_name(spec.name)}",
                api_version=NACK_API_VERSION,
                kind=NACK_KIND,
                metadata=metadata(stream_resource_name(spec.name), ns, self._stream_labels(args, spec.name), annotations),
                spec=nack.stream_cr_spec(spec),
                opts=child_opts(self, *self._stream_prerequisites()),
            )
            for spec in args.streams
        ]
        self.register_outputs({"clientUrl": self.client_url, "namespace": ns, "streams": self.stream_names})

    def _controller(self, name: str, args: NatsJetStreamArgs, server_selector: dict[str, str], annotations: dict[str, str]) -> dict[str, str]:
        """The NACK controller's objects; returns its pod selector."""
        ctl, ns, prov = f"{name}-nack", args.namespace, args.provenance
        labels = prov.labels(name=ctl, instance=ctl, component="stream-controller", workload_class=SERVICE)
        selector = {conventions.LABEL_NAME: ctl, conventions.LABEL_INSTANCE: ctl}

        def meta(object_name: str) -> dict[str, Any]:
            return metadata(object_name, ns, labels, annotations)

        self.crds: list[pulumi.Resource] = []
        if args.nack.install_crds:
            docs = upstream.patched(
                vendored.vendored("nack", "crds.yml").documents(),
                upstream.stamp(prov.labels(name=f"{ctl}-crds", instance=ctl, component="stream-controller"), annotations),
            )
            self.crds = list(upstream.register(self, f"{ctl}-crds", docs).values())
        sa = k8s.core.v1.ServiceAccount(f"{ctl}-sa", metadata=meta(ctl), opts=child_opts(self))
        role = k8s.rbac.v1.Role(f"{ctl}-role", metadata=meta(ctl), rules=nack.role_rules(), opts=child_opts(self))
        binding = k8s.rbac.v1.RoleBinding(
            f"{ctl}-binding", metadata=meta(ctl),
            subjects=[{"kind": "ServiceAccount", "name": ctl, "namespace": ns}],
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ctl},
            opts=child_opts(self, sa, role),
        )  # fmt: skip
        spec = nack.deployment_spec(ctl, ns, self.client_url, args.nack, selector, labels)
        # What the pack's whole-system rules check: the flows it needs and the kinds it serves.
        spec["template"]["metadata"]["annotations"] = conventions.flows_annotation([
            {"pods": {"namespace": ns, "matchLabels": dict(server_selector)}, "port": "client",
             "purpose": "manage streams"},
            {"apiServer": True, "purpose": "watch stream resources"}])
        self.controller = k8s.apps.v1.Deployment(
            ctl, metadata=metadata(ctl, ns, labels, {**annotations, **nack.PROVIDES_KINDS}),
            spec=spec,
            opts=child_opts(self, binding, *self.crds),
        )  # fmt: skip
        k8s.policy.v1.PodDisruptionBudget(
            f"{ctl}-pdb", metadata=meta(ctl), spec=defaults.pdb_spec(1, selector), opts=child_opts(self)
        )
        k8s.networking.v1.NetworkPolicy(
            f"{ctl}-netpol", metadata=meta(ctl),
            spec=nack.network_policy_spec(args.nack, selector, server_selector), opts=child_opts(self),
        )  # fmt: skip
        return selector

    @staticmethod
    def _stream_labels(args: NatsJetStreamArgs, stream: str) -> dict[str, str]:
        name = args.provenance.labels(name=stream_resource_name(stream), instance=stream_resource_name(stream), component="stream")
        # The policy pack knows an audit stream by this label (and then demands denyDelete/denyPurge).
        return {**name, STREAM_CLASS_LABEL: "audit"} if stream == args.audit_stream_name else name

    def _stream_prerequisites(self) -> list[pulumi.Resource]:
        return [*self.crds, self.controller, self.stateful_set]
