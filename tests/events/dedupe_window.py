"""Waiting for JetStream's duplicate window to pass by asking the server, never by sleeping a fixed time.

nats-server keeps the Nats-Msg-Ids it stored in arrival order and forgets them from the oldest on
(a timer, `purgeMsgIds`, drops the expired head of that list). So once it has forgotten the id of
the stream's last message it has forgotten every earlier one too. The question "do you still know
this id?" is asked without storing anything: the probe re-sends the last message's id with a
`Nats-Expected-Last-Msg-Id` that names no message. The server checks the id first (a known id is
answered `duplicate`, nothing stored) and the expectation after it (an unknown id is refused with
"wrong last msg ID", nothing stored either), so the stream the tests then read is unchanged.
"""

from __future__ import annotations

import asyncio
import time

from nats.js.errors import APIError

from cdb_ops.events.jetstream import connect

MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"
WRONG_LAST_MSG_ID = 10070  # JSStreamWrongLastMsgIDErr
NO_SUCH_ID = "cdb-test-probe: no message carries this id"


async def remembers(js, subject: str, msg_id: str) -> bool:
    """Whether the stream still holds `msg_id` in its duplicate window; stores nothing either way."""
    try:
        ack = await js.publish(subject, b"", headers={MSG_ID: msg_id, EXPECTED_LAST_MSG_ID: NO_SUCH_ID})
    except APIError as exc:
        if exc.err_code == WRONG_LAST_MSG_ID:
            return False  # the id passed the duplicate check: forgotten
        raise
    assert ack.duplicate, f"the probe for {msg_id} was stored as seq {ack.seq}: the server no longer checks the id first"
    return True


async def last_msg_id(js, stream: str) -> tuple[str, str]:
    """(subject, Nats-Msg-Id) of the stream's last message."""
    info = await js.stream_info(stream)
    assert info.state.last_seq, f"stream {stream} is empty: there is no id to wait for"
    last = await js.get_msg(stream, seq=info.state.last_seq)
    msg_id = (last.headers or {}).get(MSG_ID)
    assert msg_id, f"the last message of {stream} (seq {info.state.last_seq}) has no {MSG_ID}"
    return last.subject, msg_id


def wait_until_jetstream_forgets_every_msg_id(url: str, stream: str, timeout: float = 30.0) -> None:
    """Return once `stream` no longer deduplicates any message it holds now (its window has passed)."""

    async def run() -> None:
        nc = await connect(url)
        try:
            js = nc.jetstream()
            subject, msg_id = await last_msg_id(js, stream)
            window = (await js.stream_info(stream)).config.duplicate_window
            deadline = time.monotonic() + timeout
            while await remembers(js, subject, msg_id):
                assert time.monotonic() < deadline, (
                    f"JetStream still remembers Nats-Msg-Id {msg_id} of stream {stream} after {timeout}s "
                    f"(its duplicate window is {window}s)"
                )
                await asyncio.sleep(0.02)  # the server's purge timer runs on its own clock: poll it
        finally:
            await nc.close()

    asyncio.run(run())
