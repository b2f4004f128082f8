"""The applier's error handling: a KV v2 mount that is still upgrading is waited for, everything else is one line."""

from __future__ import annotations

import hvac
import pytest

from cdb_ops import secret_store
from cdb_core.errors import CdbError


def failing(times: int, message: str):
    calls = []

    def call() -> dict:
        calls.append(1)
        if len(calls) <= times:
            raise hvac.exceptions.InvalidRequest(message)
        return {"data": {"max_versions": 10}}
    return call, calls


def test_a_kv_mount_that_is_still_upgrading_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # What OpenBao answers for a moment after `sys/mounts/kv` is enabled (seen in the cluster test).
    monkeypatch.setattr(secret_store.time, "sleep", lambda _: None)
    call, calls = failing(3, "Upgrading from non-versioned to versioned data. This backend will be unavailable "
                             "for a brief period and will resume service shortly.")
    assert secret_store._call("read kv/config", call) == {"data": {"max_versions": 10}} and len(calls) == 4


def test_other_api_errors_stop_at_once_with_one_line_naming_the_call() -> None:
    call, calls = failing(1, "unsupported path\nmore detail")
    with pytest.raises(CdbError, match=r"^read kv/config: unsupported path$"):
        secret_store._call("read kv/config", call)
    assert len(calls) == 1
