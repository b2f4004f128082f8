"""Limits for every YAML file the tool reads, checked on the composed node graph before any data is built.

A YAML alias is a reference: composing a "billion laughs" document is cheap, but anything that walks the
data afterwards (the Struct encoder, the policies, a detector) expands every reference again and again.
So each document's node graph is measured first, with one memoised pass over its distinct nodes:
how many nodes it expands to, and how deep it nests once aliases are followed. Past a limit the file is
refused with `file:line`, in milliseconds, before a single value is built.

The limits are far above what real Kubernetes objects, stack settings or allow-lists need:
- a document's text: 3 MiB, the API server's request body limit (no object could be applied anyway);
- expanded nodes per document: 250,000 (the largest upstream CRDs we vendor expand to about 30,000);
- nesting depth: 100, the recursion limit of protobuf's Struct, which carries every object to the pack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from cdb_core.errors import ManifestError

MAX_DOCUMENT_BYTES = 3 * 1024 * 1024
MAX_EXPANDED_NODES = 250_000
MAX_DEPTH = 100

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLimitError(ManifestError):
    """A YAML document over a limit; its text is one `file:line: ...` line."""


def check_document(node: yaml.Node, file: str) -> None:
    """Raise YamlLimitError when the document rooted at `node` is too large, too deep or an alias bomb."""
    start, end = node.start_mark, node.end_mark
    if start is not None and end is not None and end.index - start.index > MAX_DOCUMENT_BYTES:
        raise YamlLimitError(
            f"{file}:{start.line + 1}: YAML document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB "
            "(the Kubernetes API's request limit); split it into smaller documents"
        )
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    _measure(node, sizes, depths, set(), file)
    if sizes[id(node)] > MAX_EXPANDED_NODES:
        culprit = _largest_over(node, sizes)
        raise YamlLimitError(
            f"{file}:{culprit.start_mark.line + 1}: YAML aliases expand to more than "
            f"{MAX_EXPANDED_NODES:,} values (an alias bomb?); write the values out instead of nesting aliases"
        )
    if depths[id(node)] > MAX_DEPTH:
        culprit = _deepest_over(node, depths)
        raise YamlLimitError(
            f"{file}:{culprit.start_mark.line + 1}: YAML nests deeper than {MAX_DEPTH} levels "
            "(aliases followed); flatten the structure"
        )


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _measure(root: yaml.Node, sizes: dict[int, int], depths: dict[int, int], busy: set[int], file: str) -> None:
    """Expanded size and depth of every distinct node, iteratively (no recursion limit to hit).

    Sizes are capped just above the limit so a bomb never makes huge integers."""
    cap = MAX_EXPANDED_NODES + 1
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            busy.discard(key)
            size, depth = 1, 0
            for child in _children(node):
                size = min(cap, size + sizes[id(child)])
                depth = max(depth, depths[id(child)])
            sizes[key], depths[key] = size, depth + 1
            continue
        if key in sizes:
            continue
        if key in busy:
            raise YamlLimitError(
                f"{file}:{node.start_mark.line + 1}: a YAML alias refers to a node that contains it "
                "(recursive anchor); remove the alias"
            )
        busy.add(key)
        stack.append((node, True))
        for child in _children(node):
            child_key = id(child)
            if child_key in busy:
                raise YamlLimitError(
                    f"{file}:{child.start_mark.line + 1}: a YAML alias refers to a node that contains it "
                    "(recursive anchor); remove the alias"
                )
            if child_key not in sizes:
                stack.append((child, False))


def _largest_over(node: yaml.Node, sizes: dict[int, int]) -> yaml.Node:
    """The deepest node still over the limit on the path of largest children: where the bomb sits."""
    while True:
        over = [c for c in _children(node) if sizes[id(c)] > MAX_EXPANDED_NODES]
        if not over:  # no single child is over: this node's children add up past it
            return node
        node = over[0]


def _deepest_over(node: yaml.Node, depths: dict[int, int]) -> yaml.Node:
    remaining = MAX_DEPTH
    while remaining > 0:
        children = list(_children(node))
        if not children:
            break
        node = max(children, key=lambda c: depths[id(c)])
        remaining -= 1
    return node


def load_all(text: str, file: str) -> list[Any]:
    """Every document of `text` as Python data (safe types only), each checked against the limits first.

    Malformed YAML raises yaml.YAMLError as PyYAML does; callers turn it into their own one-line error."""
    loader = _Loader(text)
    try:
        documents: list[Any] = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            check_document(node, file)
            documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


def load(text: str, file: str) -> Any:
    """The single document of `text` (None when empty), like yaml.safe_load but within the limits."""
    documents = load_all(text, file)
    if len(documents) > 1:
        raise YamlLimitError(f"{file}:1: expected one YAML document, found {len(documents)}; remove the extra `---`")
    return documents[0] if documents else None


def compose_all(text: str, file: str) -> list[yaml.Node]:
    """The node of every document, each checked against the limits (for readers that need lines)."""
    loader = _Loader(text)
    try:
        nodes: list[yaml.Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                check_document(node, file)
                nodes.append(node)
        return nodes
    finally:
        loader.dispose()
