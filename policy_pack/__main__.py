"""Entry point the Pulumi CLI runs (`python -u -m pulumi.policy <engine> <pack dir>`, cwd = pack dir).

The pack directory is sys.path[0] there, so the wiring imports as the top-level module ``pack``; it
serves the pack with server.Servicer (decode once per request) and clause 8's refusal of any config
that weakens a policy (rules/helpers/no_exceptions.py).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the type checker reads the package form; the CLI runs from the pack directory
    from policy_pack import pack
else:
    import pack

pack.serve()
