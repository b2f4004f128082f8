"""Trim an upstream CustomResourceDefinition to the test data the render tests validate CRs against.

Keeps the structural part of `spec`'s openAPIV3Schema (types, properties, items, required, enums,
patterns, bounds, int-or-string and preserve-unknown-fields markers) and drops prose, so the stored
file is small and says where it came from. Usage (from the project root):

    python tests/render/data/trim_crd.py CRD.yaml --repository owner/name --commit SHA --path PATH-IN-REPO \
        [--version v1]

writes tests/render/data/crds/<group>_<Kind>_<version>.json for every served version (or just --version).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

KEEP = {
    "type", "properties", "items", "additionalProperties", "required", "enum", "pattern", "minimum",
    "maximum", "maxLength", "minLength", "maxItems", "minItems", "anyOf", "oneOf", "allOf", "nullable",
    "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "format",
}
OUT = Path(__file__).resolve().parent / "crds"


def trim(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key not in KEEP:
                continue
            if key == "properties":
                out[key] = {name: trim(sub) for name, sub in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = trim(value)
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [trim(v) for v in value]
            else:
                out[key] = value
        return out
    return node


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("crd")
    parser.add_argument("--repository", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--version")
    args = parser.parse_args(argv)
    for doc in yaml.safe_load_all(Path(args.crd).read_text(encoding="utf-8")):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            if (args.version and version["name"] != args.version) or (not args.version and not version.get("served")):
                continue
            schema = version["schema"]["openAPIV3Schema"]["properties"].get("spec", {"type": "object"})
            data = {
                "source": {"repository": args.repository, "commit": args.commit, "path": args.path},
                "apiVersion": f"{group}/{version['name']}",
                "kind": kind,
                "spec": trim(schema),
            }
            target = OUT / f"{group}_{kind}_{version['name']}.json"
            target.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            print(target.relative_to(OUT.parent.parent.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
