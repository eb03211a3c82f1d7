"""``schakel demo``: the whole hub on one machine, with supplier traffic and a live feed."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console

from schemas.topics import CHANGES, CIS, DEADLETTER, INCIDENTS, inbound_topic
from services.bootstrap import bootstrap
from services.config import SchakelConfig, Settings
from services.demo.gen_servicenow import servicenow_catalogue
from services.demo.peers import demo_peers, demo_secrets
from services.demo.render import render_record
from services.demo.traffic import mixed_traffic
from services.kafka import MAX_REQUEST_BYTES, client_options
from services.observability import HEALTH
from services.topics_io import ConsumedRecord

__all__ = ["run_demo"]

#: The demo config's cockpit accounts and their passwords (config/schakel.yaml holds only
#: their argon2 hashes); printed at start when the config has them.
DEMO_ACCOUNTS = {"regie": "regie-demo", "fb-dordrecht": "fb-demo", "fb-alblasserdam": "fb-demo"}

#: Every ``_BAD_EVERY``-th event is broken on purpose, to show the dead-letter channel.
_BAD_EVERY = 25


def _broken(serial: int, supplier: str) -> tuple[str, bytes, bytes]:
    kinds = [
        b'{"sys_id": "abc", "number": "INC-broken", "state": ',  # truncated JSON
        orjson.dumps({"number": "INC9999999", "sys_class_name": "incident"}),  # no sys_id
        b"\xff\xfe not even UTF-8",
    ]
    return inbound_topic(supplier), f"bad-{serial}".encode(), kinds[serial % len(kinds)]


async def run_demo(
    settings: Settings,
    config: SchakelConfig,
    *,
    count: int,
    rate: float,
    with_hub: bool,
    console: Console,
) -> None:
    demo_secrets(config)
    app = bootstrap(settings, config).app
    async with contextlib.AsyncExitStack() as stack:
        if with_hub:
            await stack.enter_async_context(demo_peers(config, console))
            await app.start()
            stack.push_async_callback(app.stop)
            _print_cockpit(settings, config, console)
        await _publish(settings, config, count=count, rate=rate, console=console, drain=with_hub)


def _print_cockpit(settings: Settings, config: SchakelConfig, console: Console) -> None:
    url = f"http://{settings.http_host}:{settings.http_port}/"
    console.print(f"[bold]Cockpit[/]: {url}")
    for account in config.feed.accounts:
        password = DEMO_ACCOUNTS.get(account.username)
        if password is not None:
            where = f" ({account.gemeente})" if account.gemeente else ""
            console.print(f"  {account.role}{where}: {account.username} / {password}")


async def _publish(
    settings: Settings,
    config: SchakelConfig,
    *,
    count: int,
    rate: float,
    console: Console,
    drain: bool,
) -> None:
    producer = AIOKafkaProducer(
        **client_options(settings.kafka_bootstrap),
        acks="all",
        max_request_size=MAX_REQUEST_BYTES,
    )
    await producer.start()
    feed = asyncio.create_task(_feed(settings.kafka_bootstrap, console))
    suppliers = [s.id for s in config.suppliers]
    console.print(
        f"[bold]Schakel demo[/]: {rate:g} events/s to {', '.join(suppliers)}; Ctrl-C stops"
    )
    seed = servicenow_catalogue(datetime.now(UTC)) if "kpn" in suppliers else []
    for topic, key, value in seed:  # the demo CMDB first, so tickets have CIs to route on
        await producer.send_and_wait(topic, value, key=key, headers=[("schakel-demo", b"1")])
    sent = 0
    started = time.monotonic()
    try:
        traffic = mixed_traffic(count or 10**9, seed=random.randrange(1 << 30), suppliers=suppliers)
        for serial, (topic, key, value) in enumerate(traffic):
            if serial % _BAD_EVERY == _BAD_EVERY - 1:
                topic, key, value = _broken(serial, suppliers[0])
            await producer.send_and_wait(topic, value, key=key, headers=[("schakel-demo", b"1")])
            sent += 1
            delay = started + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        # a finite demo ends once the hub has handled what it was sent (the feed shows it)
        await (_drained(console) if drain else asyncio.sleep(3))
    finally:
        feed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed
        await producer.stop()
        console.print(f"[bold]demo stopped[/]: {sent} supplier events published")


async def _drained(console: Console, *, timeout_s: float = 120.0, every_s: float = 0.5) -> None:
    """Wait until every consumer of the hub has committed up to the end of its partitions,
    twice in a row (what one service produced, the next consumes), at most ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    calm = 0
    while calm < 2:
        if time.monotonic() > deadline:
            console.print(f"[bold red]the hub did not catch up within {timeout_s:g} s[/]")
            return
        await asyncio.sleep(every_s)
        await HEALTH.measure_lag()
        calm = calm + 1 if HEALTH.drained() else 0


async def _feed(bootstrap: str, console: Console) -> None:
    consumer = AIOKafkaConsumer(
        INCIDENTS,
        CHANGES,
        CIS,
        DEADLETTER,
        **client_options(bootstrap),
        group_id=None,
        auto_offset_reset="latest",
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
        fetch_max_bytes=MAX_REQUEST_BYTES,
    )
    await consumer.start()
    try:
        async for r in consumer:
            console.print(
                render_record(
                    ConsumedRecord(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.timestamp,
                        r.key,
                        r.value or b"",
                        dict(r.headers),
                    )
                )
            )
    finally:
        await consumer.stop()
