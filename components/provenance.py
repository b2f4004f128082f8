"""Who built an object, from which commit, for which stack: the labels and annotations every object carries.

The stack computes the git revision (from config or the CI environment); components only receive it.
"""

import re

from pydantic import Field, field_validator

from components import conventions, names
from components.errors import ComponentArgsError
from components.intent import Intent

_REVISION = re.compile(r"^[0-9a-f]{7,64}$")
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class Provenance(Intent):
    """Ownership and origin of the objects a component builds."""

    part_of: str = Field(description="System the objects belong to (app.kubernetes.io/part-of), e.g. 'cdb'")
    git_revision: str = Field(description="Commit sha the objects are built from, or 'unknown'")
    source: str = Field(description="'<project>/<stack>' the objects come from, e.g. 'cdb-infra/dev'")
    managed_by: str = Field(default=conventions.MANAGED_BY_PULUMI, description="Tool that manages the objects")

    def __init__(
        self,
        part_of: str | None = None,
        git_revision: str | None = None,
        source: str | None = None,
        managed_by: str = conventions.MANAGED_BY_PULUMI,
        **extra: object,
    ) -> None:
        # Positional construction as documented; missing or unknown arguments still fail validation.
        given = {"part_of": part_of, "git_revision": git_revision, "source": source}
        super().__init__(**{k: v for k, v in given.items() if v is not None}, managed_by=managed_by, **extra)

    @field_validator("part_of", "managed_by")
    @classmethod
    def _label_values(cls, value: str) -> str:
        return names.label_value(value)

    @field_validator("git_revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        if value != conventions.UNKNOWN_REVISION and not _REVISION.match(value):
            raise ValueError(
                f"git revision {value!r} is not a lower-case hex commit sha; pass the sha (git rev-parse HEAD) or 'unknown'"
            )
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not _SOURCE.match(value):
            raise ValueError(f"source {value!r} is not '<project>/<stack>'; pass e.g. 'cdb-infra/dev'")
        return value

    def labels(self, name: str, instance: str, component: str, workload_class: str | None = None) -> dict[str, str]:
        """The recommended labels (plus the workload class, for workloads) of one object."""
        labels = {
            conventions.LABEL_NAME: name,
            conventions.LABEL_INSTANCE: instance,
            conventions.LABEL_COMPONENT: component,
            conventions.LABEL_PART_OF: self.part_of,
            conventions.LABEL_MANAGED_BY: self.managed_by,
        }
        if workload_class is not None:
            if workload_class not in conventions.WORKLOAD_CLASSES:
                raise ComponentArgsError(
                    f"workload class {workload_class!r} is unknown; use one of {', '.join(conventions.WORKLOAD_CLASSES)}"
                )
            labels[conventions.LABEL_WORKLOAD_CLASS] = workload_class
        try:
            return names.labels(labels)
        except ValueError as exc:
            raise ComponentArgsError(f"labels: {exc}") from None

    def annotations(self) -> dict[str, str]:
        """The provenance annotations of every object."""
        return {conventions.ANNOTATION_GIT_REVISION: self.git_revision, conventions.ANNOTATION_SOURCE: self.source}
