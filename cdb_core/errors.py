"""Errors the command line reports as one line and exit code 2 (never a traceback)."""


class CdbError(Exception):
    """An input, usage or environment problem. The message names the place and the fix."""


class SettingsError(CdbError):
    """Stack configuration that is unknown, mistyped or insecure."""


class ManifestError(CdbError):
    """A Kubernetes manifest that cannot be read: `file:line: what is wrong`."""


class PackError(CdbError):
    """The policy pack could not run to completion: the verdict is an error, never a pass."""
