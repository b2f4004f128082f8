"""The pack's wiring (name, policies, servicer), shared by the two ways it runs.

Under the Pulumi CLI, `__main__.py` serves it over gRPC; the pack directory is sys.path[0] there, so the
siblings import as top-level modules. `cdb check` builds the same servicer in-process (imported as a
package, `policy_pack.pack`, or under a private name for a pack copied into a project).
"""

from typing import TYPE_CHECKING, Any, cast

from pulumi_policy import EnforcementLevel

# The type checker reads the package form; the Pulumi CLI runs the pack from its directory.
if TYPE_CHECKING or __package__:
    from . import server
    from .rules import PACK_DESCRIPTION, PACK_NAME, POLICIES
    from .rules.helpers.no_exceptions import RefuseWeakening
else:  # run by the Pulumi CLI from the pack directory
    import server
    from rules import PACK_DESCRIPTION, PACK_NAME, POLICIES
    from rules.helpers.no_exceptions import RefuseWeakening


class PackServicer(RefuseWeakening, server.Servicer):
    """The pack's servicer: server.Servicer's Analyze paths, clause 8's Configure."""


class StockPackServicer(RefuseWeakening, server.StockServicer):
    """The same with the SDK's own servicer, for an SDK the adapter was not proven with."""


def _arguments() -> tuple[tuple[Any, ...], dict[str, Any]]:
    return ((PACK_NAME, POLICIES, EnforcementLevel.MANDATORY),
            {"servicer_class": PackServicer, "stock_class": StockPackServicer, "description": PACK_DESCRIPTION})


def servicer() -> PackServicer | StockPackServicer:
    """The servicer exactly as `serve` would answer with it."""
    args, kwargs = _arguments()
    return cast(PackServicer, server.make_servicer(*args, **kwargs))  # built from servicer_class above


def serve() -> None:
    args, kwargs = _arguments()
    server.serve(*args, **kwargs)
