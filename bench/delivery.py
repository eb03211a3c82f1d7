"""Delivery benchmark: routed events on a gemeente topic -> signed webhook deliveries.

A bounded load: ``--events`` routed events are produced onto a fresh gemeente topic first;
then the real delivery service (FastStream, real broker, SQLite or PostgreSQL store) is
started and timed until a local webhook receiver (uvicorn, its own process, verifying every
signature) has accepted them all. Each event goes to ``--channels`` webhook channels.

Usage: ``python -m bench.delivery [--events N] [--channels C] [--concurrency K]
[--store URL]``. Appends to ``bench/results.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import uvicorn
from fastapi import FastAPI, Request, Response

from schemas.topics import DEADLETTER, TopicSpec, gemeente_topic
from services.bootstrap import bootstrap as bootstrap_hub
from services.config import Settings, load_config
from services.config.models import FbTeam, Gemeente
from services.delivery import DeliveryOptions, verify_signature
from services.kafka import ensure_topics
from services.messaging import KafkaBatchPublisher, OutboundMessage

SECRET = "bench-geheim"
RESULTS = Path(__file__).with_name("results.jsonl")


def _receiver(port: int) -> None:
    app = FastAPI()
    seen: set[str] = set()
    bad = [0]

    @app.post("/hook/{name}")
    async def hook(name: str, request: Request) -> Response:
        body = await request.body()
        if not verify_signature(body, SECRET, request.headers.get("x-schakel-signature")):
            bad[0] += 1
            return Response(status_code=401)
        key = request.headers["idempotency-key"]
        if key in seen:
            return Response(status_code=409)
        seen.add(key)
        return Response(status_code=202)

    @app.get("/count")
    async def count() -> dict[str, int]:
        return {"accepted": len(seen), "bad_signatures": bad[0]}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def run(events: int, channels: int, concurrency: int, store: str | None) -> dict[str, object]:
    from tests.delivery_kit import random_code, routed_event

    bootstrap = os.environ.get("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    port = _free_port()
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receiver, args=(port,), daemon=True
    )
    receiver.start()
    os.environ["SCHAKEL_BENCH_FB_SECRET"] = SECRET
    code = random_code()
    topic = gemeente_topic(code)
    await ensure_topics(bootstrap, [TopicSpec(topic, 3), TopicSpec(DEADLETTER, 1)])
    teams = [
        FbTeam.model_validate(
            {
                "id": f"fb-{i}",
                "name": f"Team {i}",
                "channels": [
                    {
                        "type": "webhook",
                        "url": f"http://127.0.0.1:{port}/hook/t{i}",
                        "secret_env": "SCHAKEL_BENCH_FB_SECRET",
                    }
                ],
            }
        )
        for i in range(channels)
    ]
    base = load_config(Path("config/schakel.yaml"))
    config = base.model_copy(
        update={"gemeenten": [Gemeente(code=code, name="Bench", teams=teams, default_team="fb-0")]}
    )
    records = [
        routed_event(code, [t.id for t in teams], record_id=f"r{i}", salt=str(i))
        for i in range(events)
    ]
    producer = KafkaBatchPublisher(bootstrap, client_id="bench-router")
    await producer.start()
    await producer.send_all([OutboundMessage(r.topic, r.value, r.key, r.headers) for r in records])
    await producer.stop()

    tmp = tempfile.mkdtemp(prefix="schakel-bench-")
    store_url = store or f"sqlite+aiosqlite:///{tmp}/delivery.db"
    settings = Settings(
        kafka_bootstrap=bootstrap,
        store_url=store_url,
        group_suffix=f"-bench-{uuid.uuid4().hex[:6]}",
    )
    hub = bootstrap_hub(
        settings,
        config,
        ["delivery"],
        overrides={
            "delivery.options": DeliveryOptions(concurrency=concurrency),
            "delivery.pattern": re.escape(topic),
        },
        create_topics=False,
    )
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                await client.get(f"http://127.0.0.1:{port}/count")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        started = time.monotonic()
        await hub.app.start()
        want = events * channels
        counts: dict[str, int] = {"accepted": 0}
        progress_at, last = time.monotonic(), 0
        first_at: float | None = None
        while time.monotonic() - progress_at < 20:  # give up after 20 s without progress
            counts = (await client.get(f"http://127.0.0.1:{port}/count")).json()
            now = time.monotonic()
            if counts["accepted"] and first_at is None:
                first_at, first_count = now, counts["accepted"]
            if counts["accepted"] >= want:
                break
            if counts["accepted"] > last:
                progress_at, last = now, counts["accepted"]
            await asyncio.sleep(0.02)
        ended = time.monotonic()
        seconds = ended - started
        steady = (
            (counts["accepted"] - first_count) / (ended - first_at)
            if first_at is not None and ended > first_at
            else 0.0
        )
    await hub.app.stop()
    receiver.terminate()
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "bench": "delivery-webhook",
        "events": events,
        "channels": channels,
        "deliveries": counts.get("accepted"),
        "bad_signatures": counts.get("bad_signatures"),
        "concurrency": concurrency,
        "store": "postgresql" if store_url.startswith("postgresql") else "sqlite",
        "seconds": round(seconds, 3),
        "deliveries_per_s": round((counts.get("accepted") or 0) / seconds, 1),
        "steady_deliveries_per_s": round(steady, 1),
        "note": "from service start (group join included); steady: first to last delivery",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--store", default=None, help="store URL (default: a temp SQLite)")
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.channels, args.concurrency, args.store))
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    with RESULTS.open("ab") as out:
        out.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
