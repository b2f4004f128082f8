"""The components and the policy pack keep their own copy of the label conventions (the pack must run
alone under the Pulumi CLI). These tests pin that the two copies say the same thing."""

from __future__ import annotations

from components import conventions as built
from policy_pack.rules.helpers import conventions as enforced


def _constants(module) -> dict[str, object]:
    return {k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, (str, tuple, frozenset))}


def test_constants_with_the_same_name_have_the_same_value():
    ours, theirs = _constants(built), _constants(enforced)
    shared = sorted(set(ours) & set(theirs))
    assert len(shared) >= 10, shared
    differing = {k: (ours[k], theirs[k]) for k in shared if ours[k] != theirs[k]}
    assert not differing


def test_every_project_key_the_pack_reads_is_one_the_components_know():
    def keys(module) -> set[str]:
        found: set[str] = set()
        for value in _constants(module).values():
            for item in value if isinstance(value, (tuple, frozenset)) else (value,):
                if isinstance(item, str) and item.startswith("cdb-infra.io/"):
                    found.add(item)
        return found

    missing = keys(enforced) - keys(built)
    assert not missing, f"components/conventions.py lacks {sorted(missing)}"


def test_managed_by_value_agrees():
    assert built.MANAGED_BY_PULUMI == enforced.MANAGED_BY_VALUE
    assert built.RECOMMENDED_LABELS == enforced.REQUIRED_LABELS


NAMES = ["DB_PASSWORD", "MYSQL_PWD", "smtp.pass", "api-key", "CLIENT_SECRET", "AWS_ACCESS_KEY_ID", "HF_TOKEN",
         "MAX_TOKENS", "TOKENS_PER_MINUTE", "PASSWORD_MIN_LENGTH", "existingSecret", "passwordKey", "TOKENIZER",
         "DB_PASSWORD_FILE", "SECRET_NAME", "COMPASS", "bypass", "LOG_LEVEL", "SENTRY_DSN", "signingKey"]


def test_components_and_pack_judge_secret_like_names_alike():
    from policy_pack.rules.helpers.secret_values import secret_like_name

    assert {n: built.is_secret_like_name(n) for n in NAMES} == {n: secret_like_name(n) for n in NAMES}
