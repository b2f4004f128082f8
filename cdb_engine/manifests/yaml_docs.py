"""Reading Kubernetes YAML fast and strictly: JSON data per document, with its node for line numbers.

libyaml parses, PyYAML's resolver types the plain scalars (memoised), and a small builder of our own
makes the data: three times faster than PyYAML's generic constructor on 2,000 Deployments, and it
refuses what Kubernetes refuses (duplicate keys) or cannot carry (tags that are not JSON data).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from cdb_core.errors import ManifestError
from cdb_core.yaml_limits import check_document

YAML_SUFFIXES = (".yaml", ".yml")
_Y = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _Y + "str", _Y + "map", _Y + "seq", _Y + "merge"
_CParser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, several times faster


class _ManifestLoader(_CParser):  # type: ignore[misc, valid-type]
    """libyaml composes the nodes; tags are resolved once per distinct plain scalar.

    Construction is `_build` below rather than PyYAML's generic constructor: it is three times faster
    on 2,000 Deployments and yields only JSON data, the only shape the Analyzer's Struct can carry.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}
        self._scalars = {
            _Y + "null": lambda node: None,
            _Y + "bool": self.construct_yaml_bool,
            _Y + "int": self.construct_yaml_int,
            _Y + "float": self.construct_yaml_float,
            # Kubernetes receives timestamps and base64 as the text written in the file.
            _Y + "timestamp": lambda node: node.value,
            _Y + "binary": lambda node: node.value,
        }

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers are registered, so there is nothing to track."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = _CParser.resolve(self, kind, value, implicit)
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def build(self, node: yaml.Node, memo: dict[int, Any], busy: set[int]) -> Any:
        """JSON data of `node`; an alias shares the object built for its anchor, as PyYAML does."""
        if node.__class__ is yaml.ScalarNode:
            if node.tag == _STR:
                return node.value
            construct = self._scalars.get(node.tag)
            if construct is None:
                raise _problem(node, f"tag {node.tag} is not JSON data and cannot appear in a manifest")
            return construct(node)
        key = id(node)
        if key in busy:
            raise _problem(node, "an alias refers to a node that contains it (recursive anchor)")
        if key in memo:
            return memo[key]
        busy.add(key)
        if node.__class__ is yaml.SequenceNode and node.tag == _SEQ:
            data: Any = [self.build(item, memo, busy) for item in node.value]
        elif node.__class__ is yaml.MappingNode and node.tag == _MAP:
            data = self._build_mapping(node, memo, busy)
        else:
            raise _problem(node, f"tag {node.tag} is not JSON data and cannot appear in a manifest")
        busy.discard(key)
        memo[key] = data
        return data

    def _build_mapping(
        self, node: yaml.MappingNode, memo: dict[int, Any], busy: set[int], merged: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _STR:
                key = key_node.value
            elif tag == _MERGE:
                return self._build_merged(node, memo, busy)
            else:
                key = self._key_text(key_node, memo, busy)
            if key in data and not merged:
                raise _duplicate(key_node)
            data[key] = self.build(value_node, memo, busy)
        return data

    def _build_merged(self, node: yaml.MappingNode, memo: dict[int, Any], busy: set[int]) -> dict[str, Any]:
        """`<<: *defaults`: merged keys come first and the node's own keys win, as YAML 1.1 says."""
        _refuse_duplicate_keys(node)
        self.flatten_mapping(node)
        return self._build_mapping(node, memo, busy, merged=True)

    def _key_text(self, node: yaml.Node, memo: dict[int, Any], busy: set[int]) -> str:
        """sigs.k8s.io/yaml turns scalar keys into their JSON text (`true:` -> "true", `80:` -> "80")."""
        if node.__class__ is not yaml.ScalarNode:
            raise _problem(node, "a mapping key must be text, not a list or mapping")
        key = self.build(node, memo, busy)
        if isinstance(key, bool):
            return "true" if key else "false"
        return "null" if key is None else str(key)


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[str] = set()
    for key_node, _ in node.value:
        if key_node.tag != _MERGE and isinstance(key_node, yaml.ScalarNode):
            if key_node.value in seen:
                raise _duplicate(key_node)
            seen.add(key_node.value)


def _duplicate(key_node: yaml.Node) -> yaml.MarkedYAMLError:
    return _problem(key_node, f"duplicate key {key_node.value!r} (Kubernetes rejects it; keep one)")


def _problem(node: yaml.Node, what: str) -> yaml.MarkedYAMLError:
    return yaml.constructor.ConstructorError(None, None, what, node.start_mark)


STDIN = "<stdin>"  # how `-` (standard input) is named in paths and error messages
_stdin_text: list[str] = []  # standard input can be read once: later asks get the same text


def read_text(file: str) -> str:
    if file == STDIN:
        if not _stdin_text:
            import sys

            data = sys.stdin.buffer.read()
            try:
                _stdin_text.append(data.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                raise ManifestError(f"{STDIN}:1: not UTF-8 text ({exc.reason}); send the manifest as UTF-8") from None
        return _stdin_text[0]
    try:
        with open(file, encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{file}:1: not UTF-8 text ({exc.reason}); save the manifest as UTF-8") from None
    except OSError as exc:
        raise ManifestError(f"{file}:1: cannot read ({exc.strerror})") from None


def read_documents(file: str, text: str | None = None) -> Iterator[tuple[Any, yaml.Node]]:
    """(data, its node) for every non-empty document of `file` (or of `text`, read from it); the node
    keeps the line numbers."""
    if text is None:
        text = read_text(file)
    loader = _ManifestLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            check_document(node, file)  # before building: an alias bomb must cost milliseconds, not gigabytes
            data = loader.build(node, {}, set())
            if data is not None:
                yield data, node
    except yaml.MarkedYAMLError as exc:
        raise ManifestError(_yaml_problem(file, exc)) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark
        raise ManifestError(f"{file}:1: invalid YAML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise ManifestError(f"{file}:1: YAML nested too deeply to be a Kubernetes object") from None
    finally:
        loader.dispose()


def _yaml_problem(file: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    what = exc.problem or "malformed YAML"
    if exc.context:
        what = f"{what} ({exc.context})"
    return f"{file}:{line}: invalid YAML: {_one_line(what)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
