"""The readers and parsers the rule modules share; nothing here exports RULES.

Imported as ``rules.helpers`` under the Pulumi CLI and as ``policy_pack.rules.helpers`` elsewhere, so
the modules here use relative imports only.
"""
