"""The diff engine, table-driven: each object change is classified as Kubernetes and Pulumi treat it."""

import json

import pytest

from cdb_engine.reports.diff import SECRET_TEXT, UNKNOWN_TEXT, Identity, diff, identity, prepare

from pulumi.runtime import rpc

SECRET_SIG = {rpc._special_sig_key: rpc._special_secret_sig}


def deployment(**spec):
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "chat", "namespace": "ai"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "chat"}},
                     "template": {"spec": {"containers": [{"name": "chat", "image": "chat:1"}]}}}}
    body["spec"].update(spec)
    return body


def obj(api, kind, name, namespace="ns", **fields):
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}, **fields}


def one(old, new):
    base = {identity(old): prepare(old)} if old else {}
    head = {identity(new): prepare(new)} if new else {}
    changes = diff(base, head, "base").changes
    assert len(changes) == 1
    return changes[0]


CASES = [
    # (what, old, new, action, changed paths, replace because)
    ("identical objects are unchanged", deployment(), deployment(), "same", [], []),
    ("a new image is an update of that one field", deployment(),
     deployment(template={"spec": {"containers": [{"name": "chat", "image": "chat:2"}]}}),
     "update", ["spec.template.spec.containers[0].image"], []),
    ("replicas changing is an update", deployment(), deployment(replicas=3), "update", ["spec.replicas"], []),
    ("a Deployment's selector cannot change in place", deployment(),
     deployment(selector={"matchLabels": {"app": "chat2"}}), "replace", ["spec.selector.matchLabels.app"],
     ["spec.selector"]),
    ("a StatefulSet's serviceName cannot change", obj("apps/v1", "StatefulSet", "db", spec={"serviceName": "a"}),
     obj("apps/v1", "StatefulSet", "db", spec={"serviceName": "b"}), "replace", ["spec.serviceName"],
     ["spec.serviceName"]),
    ("a StatefulSet's claim templates cannot change",
     obj("apps/v1", "StatefulSet", "db", spec={"volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "1Gi"}}}}]}),
     obj("apps/v1", "StatefulSet", "db", spec={"volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "2Gi"}}}}]}),
     "replace", ["spec.volumeClaimTemplates[0].spec.resources.requests.storage"], ["spec.volumeClaimTemplates"]),
    ("a StatefulSet's podManagementPolicy cannot change",
     obj("apps/v1", "StatefulSet", "db", spec={"podManagementPolicy": "OrderedReady"}),
     obj("apps/v1", "StatefulSet", "db", spec={"podManagementPolicy": "Parallel"}), "replace",
     ["spec.podManagementPolicy"], ["spec.podManagementPolicy"]),
    ("a StatefulSet's replicas can change", obj("apps/v1", "StatefulSet", "db", spec={"replicas": 1}),
     obj("apps/v1", "StatefulSet", "db", spec={"replicas": 3}), "update", ["spec.replicas"], []),
    ("a Service's clusterIP cannot change", obj("v1", "Service", "web", spec={"clusterIP": "None"}),
     obj("v1", "Service", "web", spec={"clusterIP": "10.0.0.9"}), "replace", ["spec.clusterIP"], ["spec.clusterIP"]),
    ("a Service's ports can change", obj("v1", "Service", "web", spec={"ports": [{"port": 80}]}),
     obj("v1", "Service", "web", spec={"ports": [{"port": 8080}]}), "update", ["spec.ports[0].port"], []),
    ("a Job's pod template cannot change",
     obj("batch/v1", "Job", "migrate", spec={"template": {"spec": {"containers": [{"image": "m:1"}]}}}),
     obj("batch/v1", "Job", "migrate", spec={"template": {"spec": {"containers": [{"image": "m:2"}]}}}),
     "replace", ["spec.template.spec.containers[0].image"], ["spec.template"]),
    ("a claim's storage class cannot change", obj("v1", "PersistentVolumeClaim", "data", spec={"storageClassName": "a"}),
     obj("v1", "PersistentVolumeClaim", "data", spec={"storageClassName": "b"}), "replace",
     ["spec.storageClassName"], ["spec.storageClassName"]),
    ("a claim's access modes cannot change",
     obj("v1", "PersistentVolumeClaim", "data", spec={"accessModes": ["ReadWriteOnce"]}),
     obj("v1", "PersistentVolumeClaim", "data", spec={"accessModes": ["ReadWriteMany"]}), "replace",
     ["spec.accessModes[0]"], ["spec.accessModes"]),
    ("a label added to an object is an update",
     obj("v1", "ConfigMap", "c", data={"a": "1"}),
     {**obj("v1", "ConfigMap", "c", data={"a": "1"}), "metadata": {"name": "c", "namespace": "ns", "labels": {"x": "y"}}},
     "update", ["metadata.labels"], []),
    ("a new object is a create", None, obj("v1", "ConfigMap", "c"), "create", [], []),
    ("a removed object is a delete", obj("v1", "ConfigMap", "c"), None, "delete", [], []),
    ("the wire's doubles equal YAML's ints", deployment(replicas=2), deployment(replicas=2.0), "same", [], []),
]


@pytest.mark.parametrize("what,old,new,action,paths,because", CASES, ids=[c[0] for c in CASES])
def test_each_change_is_classified_as_the_api_server_would_apply_it(what, old, new, action, paths, because):
    change = one(old, new)
    assert change.action == action
    assert [f.path for f in change.fields] == paths
    assert list(change.replace_because) == because


def test_a_renamed_object_is_a_delete_and_a_create_because_the_name_is_its_identity():
    old, new = obj("v1", "ConfigMap", "a"), obj("v1", "ConfigMap", "b")
    changes = diff({identity(old): prepare(old)}, {identity(new): prepare(new)}, "base").changes
    assert [(c.action, c.identity.name) for c in changes] == [("create", "b"), ("delete", "a")]


def test_a_moved_object_is_a_different_object():
    old, new = obj("v1", "ConfigMap", "a", namespace="x"), obj("v1", "ConfigMap", "a", namespace="y")
    assert identity(old) != identity(new)


def test_a_changed_secret_value_is_reported_but_never_shown():
    old = obj("v1", "Secret", "db", stringData={"password": "hunter2-old"})
    new = obj("v1", "Secret", "db", stringData={"password": "hunter2-new"})
    change = one(old, new)
    assert change.action == "update" and [f.path for f in change.fields] == ["stringData.password"]
    assert (change.fields[0].old, change.fields[0].new) == (SECRET_TEXT, SECRET_TEXT)
    assert "hunter2" not in repr(change)


def test_a_secret_added_to_a_secret_s_data_is_shown_as_secret_only():
    old = obj("v1", "Secret", "db", data={})
    new = obj("v1", "Secret", "db", data={"token": "c2VjcmV0LXRva2Vu"})
    change = one(old, new)
    assert [(f.path, f.old, f.new) for f in change.fields] == [("data.token", None, SECRET_TEXT)]


def test_a_value_marked_secret_in_wire_form_is_compared_but_shown_as_secret():
    old = obj("v1", "ConfigMap", "c", data={"dsn": {**SECRET_SIG, "value": "postgres://u:pw1@db"}})
    new = obj("v1", "ConfigMap", "c", data={"dsn": {**SECRET_SIG, "value": "postgres://u:pw2@db"}})
    same = one(old, old)
    change = one(old, new)
    assert same.action == "same"
    assert change.action == "update" and change.fields[0].new == SECRET_TEXT
    assert "pw2" not in repr(change) and "pw1" not in repr(change)


def test_a_whole_secret_subtree_added_shows_no_value_inside_it():
    new = obj("v1", "ConfigMap", "c", data={"nested": {"k": {**SECRET_SIG, "value": "topsecret"}}})
    change = one(obj("v1", "ConfigMap", "c"), new)
    assert change.fields[0].path == "data" and "topsecret" not in json.dumps(change.fields[0].new)


def test_a_value_unknown_until_deploy_is_shown_as_known_after_apply():
    unknown = rpc.UNKNOWN
    change = one(obj("v1", "ConfigMap", "c", data={"ip": "1.2.3.4"}), obj("v1", "ConfigMap", "c", data={"ip": unknown}))
    assert change.fields[0].new == UNKNOWN_TEXT


def test_an_ignored_annotation_is_not_a_change_at_any_depth():
    def with_revision(rev):
        body = deployment(template={"metadata": {"annotations": {"rev": rev, "keep": "1"}}})
        body["metadata"]["annotations"] = {"rev": rev}
        return prepare(body, frozenset({"rev"}))

    key = Identity("apps", "Deployment", "ai", "chat")
    assert diff({key: with_revision("a")}, {key: with_revision("b")}, "base").changes[0].action == "same"


def test_the_summary_reads_like_pulumi_s():
    objects = {Identity("", "ConfigMap", "ns", str(i)): prepare(obj("v1", "ConfigMap", str(i))) for i in range(5)}
    head = dict(objects)
    head[Identity("", "ConfigMap", "ns", "new")] = prepare(obj("v1", "ConfigMap", "new"))
    head[Identity("", "ConfigMap", "ns", "0")] = prepare(obj("v1", "ConfigMap", "0", data={"a": "b"}))
    del head[Identity("", "ConfigMap", "ns", "1")]
    result = diff(objects, head, "base")
    assert result.summary() == "+ 1 to create, ~ 1 to update, - 1 to delete, 3 unchanged"
    assert [c.action for c in result.changed] == ["create", "update", "delete"]
