"""What the stack program needs of its images at `pulumi up`: images.lock (the digests `cdb images
--lock` checked) and the transform that pins prod workloads to them. Reading and judging images is
cdb_release.images."""
