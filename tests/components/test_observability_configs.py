"""The observability configuration files are emitted by libyaml; the text must be what yaml.safe_dump
(the pure-Python emitter) writes for the same data, or a preview's registered inputs would change."""

import yaml

from components.observability import configs
from components.observability.common import ScrapeTarget


def _targets(n: int) -> list[ScrapeTarget]:
    return [
        ScrapeTarget(
            job=f"svc-{i:04d}", namespace="apps", port=8080 + i % 3, path="/metrics" if i % 2 else "/q/metrics",
            pod_labels={"app.kubernetes.io/name": f"svc-{i:04d}", "app.kubernetes.io/instance": f"svc-{i:04d}"},
            service=f"svc-{i:04d}" if i % 2 else None, scheme="https" if i % 5 == 0 else "http",
            params={"format": ["prometheus"], "match[]": ['{job=~"a|b"}', "x: y", "'quoted'"]} if i % 3 == 0 else {},
        )
        for i in range(n)
    ]


def _python_dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def test_the_libyaml_emitter_is_the_one_in_use() -> None:
    assert configs._DUMPER is yaml.CSafeDumper


def test_every_config_file_is_the_text_the_python_emitter_writes(monkeypatch) -> None:
    made = {
        "prometheus": lambda: configs.prometheus_config(_targets(300)),
        "prometheus without nodes": lambda: configs.prometheus_config(_targets(3), scrape_interval="15s", nodes=False),
        "loki": lambda: configs.loki_config("168h"),
        "grafana": lambda: configs.grafana_datasources("http://prometheus:9090", "http://loki:3100"),
        "collector": lambda: configs.collector_config("http://loki:3100/otlp"),
    }
    fast = {name: make() for name, make in made.items()}
    monkeypatch.setattr(configs, "_dump", _python_dump)
    for name, make in made.items():
        assert fast[name] == make(), name


def test_awkward_scalars_are_emitted_as_the_python_emitter_does() -> None:
    data = {"empty": "", "colon": "a: b", "hash": "# no", "star": "*", "multi": "one\ntwo\n", "long": "x " * 70,
            "unicode": "grüße", "numberish": "0755", "bool-ish": "yes", "null-ish": "~", "nested": [{"k": [1, 2.5, None, True]}],
            "tabs": "a\tb", "lead": " space", "dollar": "/api/v1/nodes/${1}/proxy/metrics"}
    assert configs._dump(data) == _python_dump(data)
