"""The whole chain at speed: supplier -> normaliser -> router -> delivery -> FB webhook receivers.

Runs on a broker of its own (fresh data, its own port), so the router and delivery consume
only this run's events. The hub runs as it does in production, one process per service
(``schakel serve normaliser``, ``router``, ``delivery``), with the example config's seven
gemeenten whose FB teams each get one signed webhook channel to a local receiver (its own
process, verifying every signature and counting every idempotency key it has seen).

Measured, in one run:

* the receiver's own ceiling (signed POSTs from a client process, keep-alive), so the chain's
  figure is the hub's and not the receiver's;
* latency from supplier send to FB receiver, per delivery, at fixed offered rates
  (``--rates``, default 500 and 2,000 incidents/s, ``--seconds`` each);
* saturation: ``--events`` incidents offered at once; sustained incidents/s and deliveries/s
  between 10 % and 90 % of the deliveries;
* per service: peak resident memory and CPU microseconds per incident (process CPU time over
  the saturation phase).

Usage: ``python -m bench.chain [--events N] [--rates 500,2000] [--seconds S]``
(``make bench-chain``). Appends to ``bench/results.jsonl``; summary in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import multiprocessing
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
import yaml
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request, Response
from rich.console import Console
from rich.table import Table

from schemas.topics import inbound_topic, topic_specs
from services.config import SchakelConfig, load_config
from services.demo.gen_servicenow import CI_CATALOGUE, ci_sys_id, servicenow_catalogue
from services.demo.traffic import servicenow_incident
from services.kafka import ensure_topics

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "out"
RESULTS = Path(__file__).with_name("results.jsonl")
KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"
PORT = int(os.environ.get("SCHAKEL_BENCH_KAFKA_PORT", "19792"))
SECRET_ENV = "SCHAKEL_BENCH_FB_SECRET"
SECRET = "bench-chain-geheim"
SUPPLIER = "kpn"
SERVICES = ("normaliser", "router", "delivery")
console = Console()


# --- the FB side: one receiver process for every team ------------------------------------


def _receiver(port: int) -> None:
    """Accept signed webhooks; remember when each ticket number first arrived per team."""
    app = FastAPI()
    arrivals: list[tuple[str, str, float]] = []
    keys: set[str] = set()
    counters = {"duplicates": 0, "bad_signatures": 0}
    secret = SECRET.encode()

    @app.post("/fb/{gemeente}/{team}")
    async def receive(gemeente: str, team: str, request: Request) -> Response:
        body = await request.body()
        now = time.time()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-schakel-signature", "")):
            counters["bad_signatures"] += 1
            return Response(status_code=401)
        key = request.headers.get("idempotency-key", "")
        if key in keys:
            counters["duplicates"] += 1
            return Response(status_code=202)
        keys.add(key)
        ticket = orjson.loads(body).get("data", {}).get("ticket", {})
        number = ticket.get("supplier_ref", {}).get("number") or ""
        arrivals.append((number, f"{gemeente}/{team}", now))
        return Response(status_code=202)

    @app.post("/ceiling")
    async def ceiling(request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, request.headers.get("x-schakel-signature", ""))
        return Response(status_code=202 if ok else 401)

    @app.get("/arrivals")
    async def read(since: int = 0) -> Response:
        return Response(
            orjson.dumps({"arrivals": arrivals[since:], "total": len(arrivals), **counters}),
            media_type="application/json",
        )

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _ceiling_client(port: int, seconds: float, connections: int, out: Any) -> None:
    """Signed POSTs of a routed-event-sized body, ``connections`` at a time, for ``seconds``."""

    async def go() -> int:
        body = orjson.dumps({"data": {"ticket": {"title": "x" * 900}}})
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"x-schakel-signature": signature, "content-type": "application/json"}
        done = 0
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits) as client:
            stop = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal done
                while time.perf_counter() < stop:
                    await client.post(
                        f"http://127.0.0.1:{port}/ceiling", content=body, headers=headers
                    )
                    done += 1

            await asyncio.gather(*(worker() for _ in range(connections)))
        return done

    out.put(asyncio.run(go()) / seconds)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the hub: config, broker, service processes --------------------------------------------


def _chain_config(base: SchakelConfig, receiver: str) -> dict[str, Any]:
    """The example config: the ServiceNow supplier, every team one webhook to the receiver."""
    document: dict[str, Any] = base.model_dump(mode="json", exclude_none=True)
    document["suppliers"] = [s for s in document["suppliers"] if s["id"] == SUPPLIER]
    document["routing"]["rules"] = [
        r
        for r in document["routing"]["rules"]
        if not r["match"].get("supplier") or set(r["match"]["supplier"]) <= {SUPPLIER}
    ]
    for gemeente in document["gemeenten"]:
        for team in gemeente["teams"]:
            team["channels"] = [
                {
                    "type": "webhook",
                    "url": f"{receiver}/fb/{gemeente['code']}/{team['id']}",
                    "secret_env": SECRET_ENV,
                }
            ]
    return document


@contextlib.contextmanager
def _own_broker() -> Iterator[str]:
    data = OUT / "chain-kafka"
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_PORT": str(PORT),
        "SCHAKEL_KAFKA_CONTROLLER_PORT": str(PORT + 1),
        "SCHAKEL_KAFKA_DATA": str(data),
    }
    subprocess.run([str(KAFKA_SH), "reset"], env=env, check=True, capture_output=True)
    subprocess.run([str(KAFKA_SH), "up"], env=env, check=True, capture_output=True)
    try:
        yield f"127.0.0.1:{PORT}"
    finally:
        subprocess.run([str(KAFKA_SH), "down"], env=env, capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class ServiceProcess:
    name: str
    process: asyncio.subprocess.Process
    peak_rss_kib: int = 0
    cpu_marks: list[float] = field(default_factory=list)

    def _proc(self, file: str) -> str:
        return Path(f"/proc/{self.process.pid}/{file}").read_text()

    def sample(self) -> None:
        with contextlib.suppress(OSError):
            for line in self._proc("status").splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))

    def cpu_seconds(self) -> float:
        fields = self._proc("stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def _hub(config_path: Path, bootstrap: str, run: str) -> AsyncIterator[list[ServiceProcess]]:
    env = {
        **os.environ,
        "SCHAKEL_CONFIG": str(config_path),
        "SCHAKEL_KAFKA_BOOTSTRAP": bootstrap,
        "SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{OUT / f'chain-{run}.db'}",
        "SCHAKEL_LOG_LEVEL": "WARNING",
        "SCHAKEL_LOG_FORMAT": "json",
        SECRET_ENV: SECRET,
    }
    schakel = str(Path(sys.executable).parent / "schakel")
    log = (OUT / "chain-hub.log").open("wb")
    processes = [
        ServiceProcess(
            name,
            await asyncio.create_subprocess_exec(
                schakel, "serve", name, env=env, cwd=ROOT, stdout=log, stderr=log
            ),
        )
        for name in SERVICES
    ]
    sampler = asyncio.create_task(_sample(processes))
    try:
        yield processes
    finally:
        sampler.cancel()
        for p in processes:
            if p.process.returncode is None:
                p.process.terminate()
        for p in processes:
            try:
                await asyncio.wait_for(p.process.wait(), 30)
            except TimeoutError:
                p.process.kill()
        log.close()


async def _sample(processes: list[ServiceProcess]) -> None:
    while True:
        for p in processes:
            p.sample()
        await asyncio.sleep(0.5)


# --- supplier traffic and what arrives ------------------------------------------------------


class Arrivals:
    """What the receiver reports, read incrementally."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client, self._url = client, url
        self.seen: list[tuple[str, str, float]] = []
        self.duplicates = 0
        self.bad_signatures = 0

    async def poll(self) -> None:
        answer = (await self._client.get(self._url, params={"since": len(self.seen)})).json()
        self.seen += [tuple(a) for a in answer["arrivals"]]
        self.duplicates, self.bad_signatures = answer["duplicates"], answer["bad_signatures"]

    async def until(self, numbers: set[str], *, quiet_s: float = 5.0, limit_s: float = 600) -> None:
        """Poll until every number arrived once and nothing more came for ``quiet_s``."""
        deadline = time.monotonic() + limit_s
        last, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            await self.poll()
            if len(self.seen) != last:
                last, last_change = len(self.seen), time.monotonic()
            arrived = {n for n, _, _ in self.seen}
            if numbers <= arrived and time.monotonic() - last_change > quiet_s:
                return
            await asyncio.sleep(0.25)


#: the catalogue CIs that name gemeenten: an incident on one of them reaches FB teams
#: (one on a bare server would go to the regie's triage queue, not to a receiver)
_ROUTABLE = {ci_sys_id(i) for i, entry in enumerate(CI_CATALOGUE) if entry[2]}


def _incidents(count: int, start: int, now: datetime) -> tuple[list[tuple[str, bytes, bytes]], int]:
    """``count`` ServiceNow incidents on CIs of the gemeenten, numbered from ``start``;
    and the next free number."""
    rng = random.Random(start)
    chosen: list[tuple[str, bytes, bytes]] = []
    serial = start
    while len(chosen) < count:
        event = servicenow_incident(rng, serial, now)
        serial += 1
        if orjson.loads(event[2])["cmdb_ci"]["value"] in _ROUTABLE:
            chosen.append(event)
    return chosen, serial


def _number(value: bytes) -> str:
    return str(orjson.loads(value)["number"])


async def _offer(
    producer: AIOKafkaProducer, events: list[tuple[str, bytes, bytes]], rate: float | None
) -> dict[str, float]:
    """Send at ``rate`` per second (None: as fast as the producer goes); send times."""
    sent: dict[str, float] = {}
    started = time.monotonic()
    pending = []
    for i, (topic, key, value) in enumerate(events):
        sent[_number(value)] = time.time()
        pending.append(await producer.send(topic, value, key=key))
        if rate:
            delay = started + (i + 1) / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.gather(*pending)
    return sent


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(events: int, rates: list[float], seconds: float) -> dict[str, Any]:
    OUT.mkdir(exist_ok=True)
    run_id = uuid.uuid4().hex[:6]
    port = _free_port()
    spawn = multiprocessing.get_context("spawn")
    receiver = spawn.Process(target=_receiver, args=(port,), daemon=True)
    receiver.start()
    result: dict[str, Any] = {"bench": "chain", "events": events, "rates": rates}
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    await client.get(f"http://127.0.0.1:{port}/arrivals")
                    break
                await asyncio.sleep(0.1)
            queue = spawn.Queue()
            ceiling = spawn.Process(target=_ceiling_client, args=(port, 5.0, 32, queue))
            ceiling.start()
            ceiling.join()
            result["receiver_ceiling_per_s"] = round(queue.get(), 1)
            console.print(f"receiver ceiling: {result['receiver_ceiling_per_s']:,.0f} req/s")

            base = load_config(ROOT / "config" / "schakel.yaml")
            config_path = OUT / f"chain-config-{run_id}.yaml"
            document = _chain_config(base, f"http://127.0.0.1:{port}")
            config_path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
            with _own_broker() as bootstrap:
                result.update(
                    await _measure(
                        client, port, bootstrap, config_path, run_id, events, rates, seconds
                    )
                )
    finally:
        receiver.terminate()
    return result


async def _measure(
    client: httpx.AsyncClient,
    port: int,
    bootstrap: str,
    config_path: Path,
    run_id: str,
    events: int,
    rates: list[float],
    seconds: float,
) -> dict[str, Any]:
    config = load_config(config_path)
    specs = topic_specs([s.id for s in config.suppliers], [g.code for g in config.gemeenten])
    await ensure_topics(bootstrap, specs)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    arrivals = Arrivals(client, f"http://127.0.0.1:{port}/arrivals")
    out: dict[str, Any] = {}
    now = datetime.now(UTC)
    serial = 0
    try:
        for topic, key, value in servicenow_catalogue(now):  # the CMDB the router routes on
            await producer.send_and_wait(inbound_topic(SUPPLIER), value, key=key)
            del topic
        async with _hub(config_path, bootstrap, run_id) as processes:
            warm, serial = _incidents(50, serial, now)
            await _offer(producer, warm, 50)
            await arrivals.until({_number(v) for _, _, v in warm}, quiet_s=2, limit_s=180)
            console.print("hub warm: the first incidents reached the FB receivers")
            for rate in rates:
                batch, serial = _incidents(int(rate * seconds), serial, now)
                mark = len(arrivals.seen)
                sent = await _offer(producer, batch, rate)
                await arrivals.until(set(sent), quiet_s=3)
                latencies = [
                    (at - sent[n]) * 1000 for n, _, at in arrivals.seen[mark:] if n in sent
                ]
                out[f"latency_ms_at_{int(rate)}"] = {
                    "incidents": len(sent),
                    "deliveries": len(latencies),
                    "p50": round(statistics.median(latencies), 1),
                    "p99": round(_percentile(latencies, 0.99), 1),
                }
                console.print(f"at {rate:g}/s offered: {out[f'latency_ms_at_{int(rate)}']}")
            batch, serial = _incidents(events, serial, now)
            mark = len(arrivals.seen)
            cpu_before = {p.name: p.cpu_seconds() for p in processes}
            sent = await _offer(producer, batch, None)
            await arrivals.until(set(sent), quiet_s=3, limit_s=1800)
            cpu_after = {p.name: p.cpu_seconds() for p in processes}
            times = sorted(at for n, _, at in arrivals.seen[mark:] if n in sent)
            first = {}
            for n, _, at in arrivals.seen[mark:]:
                first.setdefault(n, at)
            done = sorted(first.values())
            lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
            lo_i, hi_i = int(len(done) * 0.1), int(len(done) * 0.9)
            out["saturation"] = {
                "incidents": len(sent),
                "incidents_delivered": len(done),
                "deliveries": len(times),
                "deliveries_per_s": round((hi - lo) / (times[hi] - times[lo]), 1),
                "incidents_per_s": round((hi_i - lo_i) / (done[hi_i] - done[lo_i]), 1),
            }
            out["services"] = {
                p.name: {
                    "peak_rss_mib": round(p.peak_rss_kib / 1024, 1),
                    "cpu_us_per_incident": round(
                        (cpu_after[p.name] - cpu_before[p.name]) / len(sent) * 1e6, 1
                    ),
                }
                for p in processes
            }
            out["duplicates_at_receiver"] = arrivals.duplicates
            out["bad_signatures"] = arrivals.bad_signatures
    finally:
        await producer.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="incidents at saturation")
    parser.add_argument("--rates", default="500,2000", help="offered incidents/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per offered rate")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    result = asyncio.run(run(args.events, rates, args.seconds))
    result["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = f"{platform.machine()} {os.cpu_count()} cpu {platform.python_version()}"
    table = Table(title="supplier -> FB receiver (one process per service)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("receiver ceiling (req/s)", f"{result['receiver_ceiling_per_s']:,.0f}")
    for key, value in result.items():
        if key.startswith("latency_ms_at_"):
            table.add_row(
                f"p50 / p99 ms at {key.rsplit('_', 1)[1]}/s", f"{value['p50']} / {value['p99']}"
            )
    sat = result["saturation"]
    table.add_row("saturation incidents/s", f"{sat['incidents_per_s']:,.0f}")
    table.add_row("saturation deliveries/s", f"{sat['deliveries_per_s']:,.0f}")
    for name, figures in result["services"].items():
        table.add_row(
            f"{name}: peak RSS MiB / CPU us per incident",
            f"{figures['peak_rss_mib']} / {figures['cpu_us_per_incident']}",
        )
    table.add_row(
        "duplicates / bad signatures",
        f"{result['duplicates_at_receiver']} / {result['bad_signatures']}",
    )
    console.print(table)
    with RESULTS.open("ab") as f:
        f.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
