"""Container images read without a daemon: OCI layouts, archives and registries (clause 5).

`reader.read_image(reference, ...)` resolves a reference to a digest and returns the verified manifest,
config and layers; `cache.BlobCache` keeps verified blobs by digest.
"""
