"""Resolve a reference to a digest and read its manifest, config and layers, each verified against its
digest before it is used or cached. Multi-platform indexes pick `linux/amd64` unless told otherwise."""

from __future__ import annotations

from cdb_release.images.cache import BlobCache
from cdb_release.images.layout import DockerArchive, OciLayout
from cdb_stack.images.model import (
    DEFAULT_MAX_LAYER_BYTES, DEFAULT_PLATFORM, INDEX_TYPES, MANIFEST_TYPES, Image, ImageError, Layer,
    check_digest, load_json, parse_platform, parse_reference, pinned_digest,
)

_MANIFEST_BOUND = 4 * 1024 * 1024  # manifests and configs are small; a huge one is an attack or an error


def _source(text: str, bound: int):
    ref = parse_reference(text)
    if ref.transport == "docker":
        from cdb_release.images.registry import Registry

        return Registry(ref, text)
    if ref.transport == "docker-archive":
        return DockerArchive(ref, text, bound)
    return OciLayout(ref, text, bound)


class _Reader:
    def __init__(self, name: str, source, cache: BlobCache, bound: int):
        self.name, self.source, self.cache, self.bound = name, source, cache, bound

    def fetch(self, digest: str, bound: int, manifest: bool = False) -> bytes:
        check_digest(digest, self.name)
        cached = self.cache.get(digest)
        if cached is not None:
            return cached
        return self.cache.put(digest, self.source.blob(digest, bound, manifest=manifest), self.name)


def _media_type(manifest: dict, descriptor: dict) -> str:
    return str(manifest.get("mediaType") or descriptor.get("mediaType") or "")


def _pick_platform(name: str, index: dict, platform: str) -> dict:
    want_os, want_arch, want_variant = parse_platform(platform)
    offered = []
    for entry in index.get("manifests") or []:
        plat = entry.get("platform") or {} if isinstance(entry, dict) else {}
        offered.append("/".join(str(p) for p in (plat.get("os"), plat.get("architecture"), plat.get("variant")) if p))
        if plat.get("os") == want_os and plat.get("architecture") == want_arch \
                and (want_variant is None or plat.get("variant") == want_variant):
            return entry
    raise ImageError(f"{name}: no {platform} image in the index (offered: {', '.join(offered) or 'none'}); "
                     "choose one with --platform")


def read_image(text: str, cache: BlobCache, platform: str = DEFAULT_PLATFORM,
               max_layer_bytes: int = DEFAULT_MAX_LAYER_BYTES, layers: bool = True) -> Image:
    """The verified image `text` names. Raises ImageError (one line, starting with `text`)."""
    parse_platform(platform)
    source = _source(text, max_layer_bytes)
    try:
        reader = _Reader(text, source, cache, max_layer_bytes)
        descriptor = source.top()
        ref = parse_reference(text)
        pinned = pinned_digest(ref.target, text) if ref.transport == "docker" else None
        if pinned and descriptor["digest"] != pinned:
            raise ImageError(f"{text}: the registry sent a manifest with digest {descriptor['digest']}; "
                             "refusing it")
        resolved = descriptor["digest"]
        manifest = load_json(reader.fetch(resolved, _MANIFEST_BOUND, manifest=True), text)
        if _media_type(manifest, descriptor) in INDEX_TYPES or ("manifests" in manifest and "config" not in manifest):
            descriptor = _pick_platform(text, manifest, platform)
            manifest = load_json(reader.fetch(descriptor["digest"], _MANIFEST_BOUND, manifest=True), text)
        media_type = _media_type(manifest, descriptor)
        if media_type not in MANIFEST_TYPES and "config" not in manifest:
            raise ImageError(f"{text}: {media_type or 'untyped'} manifest is not an image manifest")
        config_descriptor = manifest.get("config") or {}
        config = load_json(reader.fetch(config_descriptor.get("digest", ""), _MANIFEST_BOUND), f"{text}: config")
        image = Image(text, resolved, manifest, config, platform_digest=descriptor["digest"])
        if layers:
            for layer in manifest.get("layers") or []:
                size = int(layer.get("size") or 0)
                if size > max_layer_bytes:
                    raise ImageError(f"{text}: layer {layer.get('digest')} is {size} bytes, over the bound of "
                                     f"{max_layer_bytes}; raise --max-layer-bytes to read it")
                data = reader.fetch(layer.get("digest", ""), max_layer_bytes)
                image.layers.append(Layer(layer["digest"], str(layer.get("mediaType") or ""), data))
        return image
    finally:
        source.close()
