# Stack config drives image and replicas; the Deployment takes its password from a Secret reference.
# Nothing in the program produces that Secret (no VaultStaticSecret, no declared producer), so the pod
# could not start on an empty cluster: the references rule refuses it.
# expect: exit 1
# expect: violation system-references-resolve kubernetes:apps/v1:Deployment web
# config: probe:image: registry.example/web:1.4.2
# config: probe:replicas: "3"
import pulumi
import pulumi_kubernetes as k8s
from _common import container, deployment_spec, meta

cfg = pulumi.Config()
env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
spec = deployment_spec("web", "service", container(image=cfg.require("image"), env=env), replicas=cfg.require_int("replicas"))
k8s.apps.v1.Deployment("web", metadata=meta("web"), spec=spec)
