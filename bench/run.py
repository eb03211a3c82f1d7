"""Benchmark harness: raw aiokafka passthrough vs the Schakel normaliser, same broker, same run.

Both consume in batches, produce every result, wait for all acknowledgements, and only then
commit: the delivery guarantees of the product. Measured:

(a) passthrough: consume -> produce the same bytes -> ack -> commit (the ceiling);
(b) normaliser throughput: the real FastStream service on a pre-loaded inbound topic;
(c) normaliser latency at a fixed offered rate: supplier send -> normalised event received.

Each side runs as ``--hubs`` processes of one consumer group (default 1), timed once the group
is stable. Usage: ``python -m bench.run [--events N] [--rate R] [--seconds S]
[--mix servicenow|all] [--hubs N]``.
Results print as a table and are appended to ``bench/results.jsonl``; copy the summary into
``bench/RESULTS.md`` with the machine it ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from schemas.topics import CHANGES, CIS, INCIDENTS, inbound_topic, supplier_of_inbound
from services.bootstrap import specs_for
from services.config import SchakelConfig, load_config
from services.demo.traffic import GENERATORS, Generator, mixed_traffic, servicenow_incident
from services.kafka import ensure_topics
from services.logs import configure_logging
from services.messaging import KafkaBatchPublisher, OutboundMessage
from services.normaliser import GROUP_ID

console = Console()
BOOTSTRAP = os.environ.get("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
RESULTS = Path(__file__).parent / "results.jsonl"
OUT = Path(__file__).parent / "out"
#: the generator table of this run: ServiceNow incidents only, or the four systems' mixes
TABLE: dict[str, Generator] = {"kpn": servicenow_incident}
#: normaliser processes in the consumer group (scaled out as in production)
HUBS = 1
#: seconds from launching the relay processes to their common start (start-up, connect)
RELAY_START_S = 6.0
PARTITIONS = 6
#: records per consumed batch; equals ``services.normaliser.service.MAX_RECORDS``
BATCH = 5000
#: seconds the normaliser group may take to become Stable with ``HUBS`` assigned members
SETTLE_TIMEOUT = 90.0


async def _create(topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics])
    finally:
        await admin.close()


async def _preload(topic_of: Callable[[str], str], events: list[tuple[str, bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("pre-loading supplier events", total=len(events))
            for index, (topic, key, value) in enumerate(events):
                pending.append(await producer.send(topic_of(topic), value, key=key))
                if len(pending) >= 5000:
                    await asyncio.gather(*pending)
                    pending.clear()
                    progress.update(task, completed=index + 1)
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


def _supplier(topic: str) -> str:
    """The supplier of a generated record's inbound topic."""
    supplier = supplier_of_inbound(topic)
    if supplier is None:
        raise ValueError(f"not an inbound topic: {topic}")
    return supplier


def _assigned(member: dict[str, Any]) -> int:
    """Partitions assigned to one member of a DescribeGroups answer (0 while it is syncing)."""
    raw = member["member_assignment"]
    return len(ConsumerProtocolMemberAssignment.decode(raw).partitions()) if raw else 0


async def _describe(admin: AIOKafkaAdminClient, group: str) -> tuple[str, list[int]]:
    """The state of ``group`` (``Stable``, ``PreparingRebalance``, ...) and the number of
    partitions assigned to each of its members."""
    for response in await admin.describe_consumer_groups([group]):
        for described in response.to_object()["groups"]:
            if described["group"] != group:
                continue
            if described["error_code"]:
                return f"error {described['error_code']}", []
            return str(described["state"]), [_assigned(m) for m in described["members"]]
    return "unknown", []


async def _wait_stable(group: str, members: int) -> float:
    """Poll ``group`` every 100 ms until it is Stable with exactly ``members`` members, each
    with partitions assigned; return the ``perf_counter`` time it was seen so.

    Raises ``TimeoutError`` after ``SETTLE_TIMEOUT`` seconds, naming the last state seen.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    started = time.perf_counter()
    try:
        while True:
            state, assigned = await _describe(admin, group)
            if state == "Stable" and len(assigned) == members and all(assigned):
                return time.perf_counter()
            if time.perf_counter() - started > SETTLE_TIMEOUT:
                raise TimeoutError(
                    f"consumer group {group} not Stable with {members} member(s), each assigned"
                    f" partitions, after {SETTLE_TIMEOUT:.0f} s; last seen: {state}, partitions"
                    f" per member {assigned}"
                )
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by the processes ``pids`` (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


async def _wait_committed(
    group: str,
    topics: set[str],
    total: int,
    label: str,
    members: int | None = None,
    pids: list[int] | None = None,
) -> dict[str, float]:
    """Wait until ``group`` has committed ``total`` offsets on ``topics`` (one admin client,
    polled every 50 ms); the rate is measured between 5 % and 95 % of ``total``.

    With ``members``, the low mark is moreover taken no earlier than the moment the group was
    seen Stable with that many assigned members, so joins and the rebalances they cause are not
    timed; the offsets committed by then are reported as ``committed_before_stable``.
    With ``pids`` (the processes doing the work), their CPU time over the same window is
    reported as ``cpu_us_per_event`` (process CPU seconds / events committed, in microseconds).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    settle = asyncio.create_task(_wait_stable(group, members)) if members else None
    started = time.perf_counter()
    stable_at: float | None = None if settle else started
    before_stable: int | None = None
    low = high = None
    cpu_low = cpu_high = 0.0
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(label, total=total)
            while True:
                if stable_at is None and settle and settle.done():
                    stable_at = settle.result()  # raises if the group did not settle
                asked = time.perf_counter()
                offsets = await admin.list_consumer_group_offsets(group)
                done = sum(
                    m.offset for tp, m in offsets.items() if tp.topic in topics and m.offset > 0
                )
                now = time.perf_counter()
                progress.update(task, completed=done)
                if before_stable is None and stable_at is not None and asked >= stable_at:
                    before_stable = done  # the first count asked for once the group was stable
                if low is None and before_stable is not None and done >= total * 0.05:
                    low = (now, done)
                    cpu_low = _cpu_seconds(pids) if pids else 0.0
                if high is None and done >= total * 0.95:
                    high = (now, done)
                    cpu_high = _cpu_seconds(pids) if pids else 0.0
                if done >= total and low and high and high[0] > low[0]:
                    rate = (high[1] - low[1]) / (high[0] - low[0])
                    marks = {"events": total, "seconds": now - started, "events_per_s": rate}
                    if settle:
                        marks["committed_before_stable"] = before_stable or 0
                    if pids:
                        marks["cpu_us_per_event"] = (cpu_high - cpu_low) / (high[1] - low[1]) * 1e6
                    return marks
                if done >= total:  # all in, yet no window after the group settled
                    raise RuntimeError(
                        f"{label}: {done}/{total} committed, but the group was not stable before"
                        f" 95 % ({before_stable} committed once stable); nothing left to time,"
                        " use more --events"
                    )
                if time.perf_counter() - started > 600:
                    raise TimeoutError(f"{label}: {done}/{total} committed after 600 s")
                await asyncio.sleep(0.05)
    finally:
        if settle:
            settle.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await settle
        await admin.close()


async def passthrough(events: list[tuple[str, bytes, bytes]]) -> dict[str, float]:
    """(a) Raw aiokafka in ``HUBS`` relay processes, as many as normaliser processes in (b):
    batch consume, produce all, await all acks, commit.

    Relays take fixed shares of the partitions (no group rebalance to wait out) and start
    together at an agreed moment, once every process has started and connected.
    """
    run = uuid.uuid4().hex[:6]
    source, sink = f"bench.pass.in.{run}", f"bench.pass.out.{run}"
    await _create([source, sink])
    await _preload(lambda _: source, events)
    group = f"bench-pass-{run}"
    start_at = f"{time.time() + RELAY_START_S:.3f}"
    relay = [sys.executable, "-m", "bench.run", "--relay", source, sink, group, start_at]
    async with _processes(relay, dict(os.environ), f"relay-{run}", numbered=True):
        marks = await _wait_committed(group, {source}, len(events), "passthrough")
    await _drop_topics([source, sink])
    return marks


async def _relay(source: str, sink: str, group: str, start_at: str, share: int) -> None:
    """Passthrough process number ``share`` of ``HUBS``, until it is terminated: partitions
    ``share``, ``share + HUBS``, ... of ``source``; consumer and producer configured as the
    normaliser's (:class:`KafkaBatchPublisher`: one record batch per partition,
    ``acks=all``, idempotent)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=50 * 1024 * 1024,
    )
    producer = KafkaBatchPublisher(BOOTSTRAP)
    await consumer.start()
    await producer.start()
    consumer.assign([TopicPartition(source, p) for p in range(share, PARTITIONS, HUBS)])
    await asyncio.sleep(max(0.0, float(start_at) - time.time()))
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=100, max_records=BATCH)
            out = [
                OutboundMessage(sink, r.value or b"", r.key, tuple(r.headers))
                for records in batch.values()
                for r in records
            ]
            if out:
                await producer.send_all(out)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def _drop_topics(topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()


def _bench_config(base: SchakelConfig, systems: list[str]) -> tuple[SchakelConfig, dict[str, str]]:
    """The example config with fresh supplier ids per run (fresh topics, fresh group offsets)."""
    run = uuid.uuid4().hex[:6]
    renamed = {}
    suppliers = []
    for supplier in base.suppliers:
        if supplier.id in systems:
            new = supplier.model_copy(update={"id": f"{supplier.id}-b{run}"})
            renamed[supplier.id] = new.id
            suppliers.append(new)
    config = base.model_copy(
        update={"suppliers": suppliers, "routing": base.routing.model_copy(update={"rules": []})}
    )
    config._source_path = base.source_path
    return config, renamed


def _config_document(config: SchakelConfig) -> dict[str, Any]:
    """The config as YAML-ready data, mapping paths made absolute (it is written elsewhere)."""
    document: dict[str, Any] = config.model_dump(mode="json")
    for supplier in document["suppliers"]:
        if supplier.get("mapping"):
            supplier["mapping"] = os.path.abspath(config.mapping_path(supplier["id"]) or "")
    return document


@contextlib.asynccontextmanager
async def _processes(
    argv: list[str], env: dict[str, str], name: str, *, numbered: bool = False
) -> AsyncIterator[list[int]]:
    """``HUBS`` copies of ``argv`` for the duration of the block (``numbered``: each gets its
    number, then ``HUBS``, as two more arguments); output in bench/out/. Yields their pids."""
    OUT.mkdir(exist_ok=True)
    log = (OUT / f"{name}.log").open("wb")
    root = Path(__file__).parent.parent
    processes = [
        await asyncio.create_subprocess_exec(
            *argv,
            *((str(n), str(HUBS)) if numbered else ()),
            env=env,
            cwd=root,
            stdout=log,
            stderr=log,
        )
        for n in range(HUBS)
    ]
    try:
        yield [p.pid for p in processes]
    finally:
        failed = [p.returncode for p in processes if p.returncode is not None]
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
        log.close()
        if failed:
            raise RuntimeError(f"a {argv[-1]} process exited with {failed}; see {log.name}")


def _hub_process(
    config: SchakelConfig, suffix: str
) -> contextlib.AbstractAsyncContextManager[list[int]]:
    """``schakel serve normaliser`` as its own process(es), as it runs in production:
    ``HUBS`` members of one consumer group."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"config{suffix}.yaml"
    path.write_text(yaml.safe_dump(_config_document(config), allow_unicode=True, sort_keys=False))
    env = {
        **os.environ,
        "SCHAKEL_CONFIG": str(path),
        "SCHAKEL_KAFKA_BOOTSTRAP": BOOTSTRAP,
        "SCHAKEL_GROUP_SUFFIX": suffix,
        "SCHAKEL_LOG_LEVEL": "WARNING",
        "SCHAKEL_LOG_FORMAT": "json",
    }
    schakel = str(Path(sys.executable).parent / "schakel")
    return _processes([schakel, "serve", "normaliser"], env, f"hub{suffix}")


async def _warm_up(renamed: dict[str, str], reader: AIOKafkaConsumer) -> None:
    """One event per supplier through the hub, so its group has joined before timing."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        waiting = set()
        for topic, key, value in mixed_traffic(
            len(renamed) * 2, seed=99, suppliers=list(renamed), generators=TABLE
        ):
            waiting.add(key.decode())
            await producer.send_and_wait(inbound_topic(renamed[_supplier(topic)]), value, key=key)
        deadline = time.perf_counter() + 90
        while waiting and time.perf_counter() < deadline:
            batch = await reader.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    waiting.discard(_reference(r.value, waiting))
    finally:
        await producer.stop()


def _reference(value: bytes, wanted: set[str] | dict[str, float]) -> str:
    ref = orjson.loads(value)["data"]["supplier_ref"]
    for reference in (ref.get("number"), ref.get("record_id")):
        if reference in wanted:
            return str(reference)
    return ""


def _reader() -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        INCIDENTS,
        CHANGES,
        CIS,
        bootstrap_servers=BOOTSTRAP,
        group_id=None,
        auto_offset_reset="latest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )


async def normaliser_throughput(
    base: SchakelConfig, count: int, suppliers: list[str]
) -> dict[str, float]:
    """(b) The normaliser service (own process) on a pre-loaded inbound topic.

    The rate is taken between 5 % and 95 % of the offsets committed, and not before the group
    is Stable with ``HUBS`` assigned members, so process start-up, group joins and the
    rebalances they cause do not count; commits happen only after the results are acknowledged.
    """
    config, renamed = _bench_config(base, suppliers)
    await ensure_topics(BOOTSTRAP, specs_for(config))
    events = list(mixed_traffic(count, seed=11, suppliers=suppliers, generators=TABLE))
    await _preload(lambda t: inbound_topic(renamed[_supplier(t)]), events)
    suffix = f"-bench-{uuid.uuid4().hex[:6]}"
    async with _hub_process(config, suffix) as pids:
        marks = await _wait_committed(
            GROUP_ID + suffix,
            {inbound_topic(v) for v in renamed.values()},
            count,
            "normaliser",
            members=HUBS,
            pids=pids,
        )
    await _drop_topics([inbound_topic(v) for v in renamed.values()])
    return marks


async def normaliser_latency(
    base: SchakelConfig, rate: float, seconds: float, suppliers: list[str]
) -> dict[str, float]:
    """(c) Offered load at a fixed rate; latency = supplier send -> normalised event read.

    Load is offered only once the warm-up events came through and the group is Stable with
    ``HUBS`` assigned members, so no start-up rebalance falls inside the measured window.
    """
    config, renamed = _bench_config(base, suppliers)
    await ensure_topics(BOOTSTRAP, specs_for(config))
    suffix = f"-lat-{uuid.uuid4().hex[:6]}"
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    done = asyncio.Event()
    reader = _reader()
    await reader.start()
    await reader.seek_to_end()
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=0)
    await producer.start()

    async def read() -> None:
        while len(latencies) < total:
            batch = await reader.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    reference = _reference(r.value, sent_at)
                    if reference:
                        latencies.append(now - sent_at.pop(reference))
        done.set()

    task: asyncio.Task[None] | None = None
    async with _hub_process(config, suffix):
        try:
            await _warm_up(renamed, reader)
            await _wait_stable(GROUP_ID + suffix, HUBS)
            task = asyncio.create_task(read())
            started = time.perf_counter()
            traffic = mixed_traffic(total, seed=5, suppliers=suppliers, generators=TABLE)
            for index, (topic, key, value) in enumerate(traffic):
                supplier = renamed[_supplier(topic)]
                sent_at[key.decode()] = time.perf_counter()  # key: the supplier's reference
                await producer.send(inbound_topic(supplier), value, key=key)
                delay = started + (index + 1) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=30)
        finally:
            if task:
                task.cancel()
            await producer.stop()
            await reader.stop()
    await _drop_topics([inbound_topic(v) for v in renamed.values()])
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "offered_rate": rate,
        "events": total,
        "received": len(ms),
        "p50_ms": statistics.median(ms) if ms else float("nan"),
        "p99_ms": ms[int(len(ms) * 0.99) - 1] if ms else float("nan"),
        "max_ms": ms[-1] if ms else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--mix", default="servicenow", choices=["servicenow", "all"])
    parser.add_argument(
        "--hubs", type=int, default=1, help="processes per side: normalisers and relays"
    )
    parser.add_argument("--relay", nargs=6, help="internal: one passthrough process")
    args = parser.parse_args()
    global HUBS
    if args.relay:  # one passthrough process of HUBS, started by passthrough()
        source, sink, group, start_at, share, processes = args.relay
        HUBS = int(processes)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_relay(source, sink, group, start_at, int(share)))
        return
    HUBS = args.hubs
    configure_logging("console", "WARNING")
    base = load_config(os.environ.get("SCHAKEL_CONFIG", "config/schakel.yaml"))
    if args.mix == "all":
        TABLE.clear()
        TABLE.update(GENERATORS)
    suppliers = [s for s in TABLE if s in {x.id for x in base.suppliers}]

    async def go() -> dict[str, object]:
        payloads = list(mixed_traffic(args.events, seed=3, suppliers=suppliers, generators=TABLE))
        a = await passthrough(payloads)
        b = await normaliser_throughput(base, args.events, suppliers)
        c = await normaliser_latency(base, args.rate, args.seconds, suppliers)
        return {"passthrough": a, "normaliser": b, "latency": c}

    results = asyncio.run(go())
    table = Table(title=f"Schakel benchmark ({args.mix}, {args.events} events, {args.hubs} hub(s))")
    for column in ("measure", "value"):
        table.add_column(column)
    a, b, c = results["passthrough"], results["normaliser"], results["latency"]
    table.add_row("(a) passthrough events/s", f"{a['events_per_s']:,.0f}")  # type: ignore[index]
    table.add_row("(b) normaliser events/s", f"{b['events_per_s']:,.0f}")  # type: ignore[index]
    table.add_row(
        "(b) normaliser CPU us/event",
        f"{b['cpu_us_per_event']:.1f}",  # type: ignore[index]
    )
    table.add_row("(b)/(a)", f"{b['events_per_s'] / a['events_per_s']:.2f}")  # type: ignore[index]
    table.add_row(f"(c) p50 at {args.rate:,.0f}/s", f"{c['p50_ms']:.1f} ms")  # type: ignore[index]
    table.add_row(f"(c) p99 at {args.rate:,.0f}/s", f"{c['p99_ms']:.1f} ms")  # type: ignore[index]
    table.add_row("(c) received/offered", f"{c['received']}/{c['events']}")  # type: ignore[index]
    console.print(table)
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "mix": args.mix,
        "hubs": args.hubs,
        **results,
    }
    with RESULTS.open("ab") as out:
        out.write(orjson.dumps(record) + b"\n")


if __name__ == "__main__":
    main()
