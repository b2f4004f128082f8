"""The components as a Pulumi component provider package (`cdb`), usable from every Pulumi language.

`pulumi package add <repository>.git/provider@vX.Y.Z` runs `__main__.py` (PulumiPlugin.yaml, runtime
python), which hosts the public components with `pulumi.provider.experimental`: the schema is
inferred from the annotated types in `inputs.py` (generated from the components' pydantic Args) and
`interface.py` (outputs), and Construct builds the very Python component, validated as in Python.

This package imports `components` and the Pulumi SDK only: never `cdb_stack` or `policy_pack`.
"""
