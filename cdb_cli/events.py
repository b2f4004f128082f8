"""`cdb events`: schemas, dual-write publish, replay, Pub/Sub tap and replay comparison.

Thin on purpose: every subcommand parses flags and calls `cdb_ops.events`. Exit codes follow the
CLI convention: 0 ok/equal, 1 findings (schema check failed, events not fully dual-written, compare
found differences), 2 usage or environment error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from cdb_cli.common import print_check
from cdb_core.errors import CdbError
from cdb_ops.events import defaults, lock
from cdb_ops.events.compare import render_text
from cdb_ops.events.envelope import Event, EventError, parse_time
from cdb_ops.events.publisher import DualWritePublisher
from cdb_ops.events.redis_side import PubSubTap, RedisTarget
from cdb_ops.events.replay import compare_window, replay
from cdb_ops.events.schemas import DEFAULT_ROOT, SchemaRegistry

_BATCH = 1000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "events",
        help="event backbone migration: schemas, dual-write, replay, compare (clause 4)",
        description="Versioned event schemas, dual-write to JetStream and Redis, replay of the bus, and "
        "the replay comparison that accepts the migration. Server URLs default to CDB_NATS_URL, "
        "CDB_REDIS_URL and the stream to CDB_EVENTS_STREAM, else local servers and CDB_EVENTS.",
    )
    sub = parser.add_subparsers(dest="events_command", metavar="SUBCOMMAND", required=True)
    _schemas_parser(sub)
    _publish_parser(sub)
    _replay_parser(sub)
    _compare_parser(sub)
    _tap_parser(sub)
    _drain_parser(sub)
    _cutover_parser(sub)


def _servers(parser: argparse.ArgumentParser, redis: bool = True) -> None:
    parser.add_argument("--nats-url", default=defaults.nats_url(), help="NATS server (default %(default)s)")
    if redis:
        parser.add_argument("--redis-url", default=defaults.redis_url(), help="Redis server (default %(default)s)")
    parser.add_argument("--stream", default=defaults.stream_name(), help="JetStream stream (default %(default)s)")


def _schemas_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schemas", help="check or record the event schemas",
                       description="--check fails when a published schema changed in a way that breaks its "
                       "readers without a new version number (offline, against published.lock.json); "
                       "--lock records the current schemas as published (refused if that hides a break).")  # fmt: skip
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="verify compatibility with the published schemas")
    mode.add_argument("--lock", action="store_true", help="record the current schemas as published")
    mode.add_argument("--list", action="store_true", help="list event types, versions and subjects")
    p.add_argument("--schemas", type=Path, default=DEFAULT_ROOT, help="schema root (default: schemas/events)")
    p.set_defaults(handler=_schemas)


def _publish_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="dual-write events from a JSON-lines file",
                       description="Validate every event of FILE (one envelope per line, '-' for stdin), then "
                       "dual-write them: JetStream first (acknowledged, or spooled locally during an outage), "
                       "then Redis. Exit 1 when an event is not acknowledged by JetStream or Redis failed.")  # fmt: skip
    p.add_argument("file", help="JSON lines of event envelopes, or - for stdin")
    _writer_options(p)
    p.set_defaults(handler=_publish)


def _writer_options(p: argparse.ArgumentParser) -> None:
    """The options of the commands that write through a DualWritePublisher (publish, drain)."""
    _servers(p)
    p.add_argument("--redis-mode", choices=("streams", "pubsub"), default="streams", help="Redis transport")
    p.add_argument("--redis-key", default=None, help="stream key or channel template ({stream}, {subject})")
    p.add_argument("--no-redis", action="store_true", help="write JetStream only")
    p.add_argument("--spool", type=Path, default=Path(".cdb/events.spool"),
                   help="local outage spool file; its ledger (.ledger) and dead letters (.dead) sit next to it")  # fmt: skip
    p.add_argument("--replicas", type=int, default=None,
                   help="replicas if the stream must be created (default: the stack's; 1 without a stack)")  # fmt: skip
    p.add_argument("--stack", default=defaults.stack_name(),
                   help="take the stream (--stream) and its replicas from Pulumi.<STACK>.yaml (default: CDB_STACK)")  # fmt: skip
    p.add_argument("--cwd", default=".", help="the Pulumi project directory for --stack (default: .)")
    p.add_argument("--schemas", type=Path, default=DEFAULT_ROOT, help="schema root (default: schemas/events)")
    p.add_argument("--drain-timeout", type=float, default=30.0,
                   help="seconds to wait at the end for a server that is down (default %(default)s)")  # fmt: skip


def _drain_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("drain", help="send a spool left by an outage, and backfill Redis from JetStream",
                       description="Send what an earlier publish left in the spool to JetStream, in order "
                       "(events JetStream already stored are not sent again), then write to Redis what it "
                       "missed, copied from JetStream. Waits up to --drain-timeout for a server that is down. "
                       "Exit 0 when nothing is left, 1 when something is.")  # fmt: skip
    _writer_options(p)
    p.set_defaults(handler=_drain)


def _cutover_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cutover", help="accept the migration: compare, record in the audit log, print the change",
                       description="Compare Redis with a JetStream replay over the window; refuse (exit 1) "
                       "unless they are equal. When equal, record the comparison report in the audit log and "
                       "print the settings change that moves the stack to the jetstream phase, to commit.")  # fmt: skip
    _servers(p)
    p.add_argument("--stack", required=True, help="the stack moving to JetStream only (Pulumi.<STACK>.yaml)")
    p.add_argument("--cwd", default=".", help="the Pulumi project directory (default: .)")
    _window_options(p, since_required=True)
    p.add_argument("--audit-spool-dir", type=Path, default=None, help="audit spool directory (default as `cdb audit`)")
    p.set_defaults(handler=_cutover)


def _replay_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay a stream to stdout (JSON lines) or another subject",
                       description="Replay the stream from a sequence number or a time, optionally filtered by "
                       "subject, as JSON lines on stdout or republished to --to-subject.")  # fmt: skip
    _servers(p, redis=False)
    start = p.add_mutually_exclusive_group()
    start.add_argument("--from-seq", type=int, help="first stream sequence (default: the first)")
    start.add_argument("--since", help="RFC 3339 time to start from (stored time)")
    p.add_argument("--subject", help="subject filter, wildcards allowed, e.g. orders.v1.>")
    p.add_argument("--limit", type=int, help="stop after this many events")
    p.add_argument("--to-subject", help="republish to this subject instead of printing")
    p.set_defaults(handler=_replay)


def _compare_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare what Redis carried with a JetStream replay (acceptance)",
                       description="Read the Redis side (Redis Streams via --redis-key, or a Pub/Sub tap file via "
                       "--redis-tap), replay the same window of event time from JetStream, and compare by event "
                       "id and content hash: missing, extra, altered, duplicated, reordered (per ordering key). "
                       "Exit 0 only when both agree; 1 naming each difference.")  # fmt: skip
    _servers(p)
    _window_options(p, since_required=False)
    p.add_argument("--format", choices=("text", "json"), default="text", help="stdout format")
    p.add_argument("--report", type=Path, help="also write the JSON report here (audit log)")
    p.set_defaults(handler=_compare)


def _window_options(p: argparse.ArgumentParser, since_required: bool) -> None:
    """The Redis side and the window of event time that compare and cutover read."""
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--redis-key", action="append", help="Redis Stream key (repeatable)")
    side.add_argument("--redis-tap", type=Path, help="file recorded by `cdb events tap`")
    p.add_argument("--since", required=since_required, help="window start, RFC 3339 event time (inclusive)")
    p.add_argument("--until", help="window end, RFC 3339 event time (exclusive; default now)")
    p.add_argument("--subject", help="subject filter on both sides, e.g. orders.v1.>")
    p.add_argument("--slack", type=float, default=300.0, help="seconds read before --since (transport delay)")


def _tap_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tap", help="record Redis Pub/Sub traffic for a later compare",
                       description="Subscribe to channel patterns and append each message to FILE until "
                       "--duration seconds pass or Ctrl-C.")  # fmt: skip
    p.add_argument("--redis-url", default=defaults.redis_url(), help="Redis server (default %(default)s)")
    p.add_argument("--pattern", action="append", help="channel pattern (repeatable; default *)")
    p.add_argument("--out", type=Path, required=True, help="tap file (JSON lines, appended)")
    p.add_argument("--duration", type=float, required=True, help="seconds to record")
    p.set_defaults(handler=_tap)


def _schemas(args: argparse.Namespace) -> int:
    if args.list:
        registry = SchemaRegistry(args.schemas)
        for type_name, versions in registry.types.items():
            domain, name = type_name.split(".", 1)
            print(f"{type_name}: " + ", ".join(f"v{v} ({domain}.v{v}.{name})" for v in versions))
        return 0
    result = lock.write_lock(args.schemas) if args.lock else lock.check(args.schemas)
    return print_check(result, f"schemas {'lock' if args.lock else 'check'}")


def _read_events(source: str) -> list[Event]:
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise CdbError(f"{source}: cannot read ({exc.strerror}); give a JSON-lines file or -") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CdbError(f"{source}:{line}: not UTF-8 (byte {exc.start}); events are UTF-8 JSON lines, "
                       "re-encode the file") from None
    lines = text.splitlines()
    return [Event.from_json(line, f"{source}:{n}") for n, line in enumerate(lines, 1) if line.strip()]


def _validate_all(registry: SchemaRegistry, events: list[Event], source: str) -> None:
    """Refuse the whole file, naming the line, before anything is written."""
    for n, event in enumerate(events, 1):
        try:
            registry.validate(event)
        except EventError as exc:
            raise EventError(f"{source}: event {n}: {exc}; nothing was published") from None


def _publish(args: argparse.Namespace) -> int:
    registry = SchemaRegistry(args.schemas)
    events = _read_events(args.file)
    _validate_all(registry, events, args.file)
    spec = _stream(args, registry)
    if not events:  # publishing nothing is not a success to report, and must not create a spool
        raise CdbError(f"{args.file}: no events found; give a file of JSON-lines event envelopes")
    stats = asyncio.run(_publish_all(args, spec, registry, events))
    print(json.dumps({"events": len(events), **stats}, indent=2))
    return 0 if _complete(stats) else 1


def _stream(args: argparse.Namespace, registry: SchemaRegistry) -> Any:
    """With a stack (--stack or CDB_STACK): its declaration of the stream, replicas included. Without
    one: a stream over every schema with --replicas (1 when not given: local servers only)."""
    if not args.stack:
        return defaults.stream_for_schemas(registry, args.stream, args.replicas or 1)
    from cdb_ops.events.stack_streams import stack_stream

    spec = stack_stream(args.stack, args.stream, args.cwd)
    return spec if args.replicas is None else spec.model_copy(update={"replicas": args.replicas})


def _publisher(args: argparse.Namespace, spec: Any, registry: SchemaRegistry) -> DualWritePublisher:
    target = None if args.no_redis else RedisTarget(url=args.redis_url, mode=args.redis_mode, key=args.redis_key)
    return DualWritePublisher(spec, nats_url=args.nats_url, redis=target, spool_path=args.spool, registry=registry)


def _stats(publisher: DualWritePublisher) -> dict[str, Any]:
    return {**publisher.stats.as_dict(), "spool_pending_bytes": publisher.spool.pending(),
            "dead_letter_file": str(publisher.spool.dead_path) if publisher.stats.dead_letters else None}  # fmt: skip


def _drain(args: argparse.Namespace) -> int:
    registry = SchemaRegistry(args.schemas)
    spec = _stream(args, registry)
    if not args.spool.exists():  # checked before the publisher, which creates its spool
        raise CdbError(f"--spool {args.spool}: no such spool; give the path `cdb events publish --spool` used")

    async def run() -> dict[str, Any]:
        publisher = _publisher(args, spec, registry)
        try:
            await publisher.start()  # starting sends the spool and backfills Redis
        finally:
            await publisher.close(args.drain_timeout)
        return _stats(publisher)

    stats = asyncio.run(run())
    print(json.dumps(stats, indent=2))
    return 0 if _complete(stats) else 1


def _cutover(args: argparse.Namespace) -> int:
    from cdb_ops.audit import Pending, Spool, default_spool_dir, submit
    from cdb_ops.audit.records import iso, utc_now
    from cdb_ops.events.stack_streams import migration_phase

    phase, source = migration_phase(args.stack, args.cwd)
    if phase != "dual-write":
        raise CdbError(f"{source}: cdb-infra:redis.migrationPhase is {phase!r}; a cut-over starts from dual-write")
    report = _compare_window(args)
    print(render_text(report))
    if not report["equal"]:
        print(f"cut-over refused: Redis and JetStream differ over the window; {source} stays in dual-write")
        return 1
    data = {"change": "events cutover", "stack": args.stack, "settings": source,
            "migrationPhase": {"from": "dual-write", "to": "jetstream"}, "comparison": report}  # fmt: skip
    # Clause 4.3: the acceptance by replay comparison is recorded, with the comparison as its evidence.
    spool = Spool(args.audit_spool_dir or default_spool_dir())
    for record in submit([Pending("cutover", iso(utc_now()), data)], spool):
        print(f"recorded the comparison in the audit log: seq {record['seq']} {record['hash']}")
    print(f"commit this change to {source}:\n"
          "  cdb-infra:redis:\n"
          "    migrationPhase: jetstream   # was dual-write; replay comparison equal, see the audit record")  # fmt: skip
    return 0


def _complete(stats: dict[str, Any]) -> bool:
    redis = stats["redis"]
    return (stats["spool_pending_bytes"] == 0 and stats["dead_letters"] == 0 and redis["failed"] == 0
            and redis["not_delivered"] == 0 and redis["behind_from"] is None)  # fmt: skip


async def _publish_all(args: argparse.Namespace, spec: Any, registry: SchemaRegistry, events: list[Event]) -> dict[str, Any]:
    publisher = _publisher(args, spec, registry)
    try:
        await publisher.start()
        # The limits are the server's and the stream's: known only once connected, and still
        # checked for every event before the first one is written.
        for n, event in enumerate(events, 1):
            try:
                publisher.check_fit(event)
            except EventError as exc:
                raise EventError(f"{args.file}: event {n}: {exc}; nothing was published") from None
        for start in range(0, len(events), _BATCH):
            await publisher.publish_many(events[start : start + _BATCH])
    finally:
        await publisher.close(args.drain_timeout)
    return _stats(publisher)


def _replay(args: argparse.Namespace) -> int:
    since = parse_time(args.since, "--since") if args.since else None
    out = None if args.to_subject else sys.stdout
    count = asyncio.run(replay(args.nats_url, args.stream, start_seq=args.from_seq, start_time=since,
                               subject=args.subject, limit=args.limit, out=out, to_subject=args.to_subject))  # fmt: skip
    print(f"replayed {count} events from {args.stream}", file=sys.stderr)
    return 0


def _compare_window(args: argparse.Namespace) -> dict[str, Any]:
    """The comparison report over the window `_window_options` read (compare, cutover)."""
    since = parse_time(args.since, "--since") if args.since else None
    until = parse_time(args.until, "--until") if args.until else None
    return asyncio.run(compare_window(nats_url=args.nats_url, stream=args.stream, redis_url=args.redis_url,
                                      redis_keys=args.redis_key or (), tap_file=args.redis_tap, since=since,
                                      until=until, subject=args.subject, slack=timedelta(seconds=args.slack)))  # fmt: skip


def _compare(args: argparse.Namespace) -> int:
    report = _compare_window(args)
    if args.report:
        try:
            args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CdbError(f"--report {args.report}: cannot write ({exc.strerror})") from None
    print(json.dumps(report, indent=2) if args.format == "json" else render_text(report))
    return 0 if report["equal"] else 1


def _tap(args: argparse.Namespace) -> int:
    async def record() -> int:
        async with PubSubTap(args.redis_url, args.pattern or ["*"], args.out) as tap:
            await asyncio.sleep(args.duration)
        return tap.count

    count = asyncio.run(record())
    print(f"recorded {count} messages to {args.out}", file=sys.stderr)
    return 0
