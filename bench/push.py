#!/usr/bin/env python3
"""Push latency: from an SDE report over HTTP to the bound websocket clients' receipt of the push.

One real ``sdehub serve`` (one uvicorn worker, durable SQLite defaults) per channels backend
(in memory, then Redis at ``--redis``), ``--clients`` websocket clients of the agent workspace
(``/api/account/{a}/agent-workspace/ws``), each bound to ``SDE`` of a conversation, and a steady,
open-loop stream of Connector API SEND requests (``userprofile.SetUserProfile`` with a new
authenticated ``ctmrinfo``) spread at random over the bound conversations. Every report carries
its number in ``customerId``, so each push names the report it shows.

Scenarios (``--scenarios``):

* ``spread``: every client bound to a conversation of its own (an agent's widget per chat);
* ``shared``: ``--shared`` clients bound to each conversation (many widgets and supervisors on
  a few hot conversations): every report is pushed to that many clients.

The latency of a push is measured from the moment the report was *sent* (so it includes the
durable commit the acknowledgment waits for) to its receipt by the client; ``ack->push`` is from
the HTTP response instead (negative when the push overtook the response). Target: p99 of
send->push <= 50 ms for both scenarios on the in-memory backend.

Usage: ``.venv/bin/python bench/push.py [--clients 1000] [--duration 10] [--channels memory,redis]``
(``make bench``). Exit status 1 on errors (a server died, a non-200, a client lost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import websockets
from connector import ACCOUNT, PATHS, Prep, dumps
from servers import REPO, BenchError, Server, free_port, process_cpu, sdehub_command, start

TARGET_P99_MS = 50.0
AGENT_PASSWORD = "bench-agent-pw"


@dataclass
class Result:
    channels: str
    scenario: str
    clients: int
    conversations: int
    rate: float
    reports: int = 0
    errors: int = 0
    pushes: int = 0
    expected: int = 0
    send_push_ms: list[float] = field(default_factory=list)
    ack_push_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, Any]:
        s, a = self.send_push_ms, self.ack_push_ms
        return {
            "channels": self.channels,
            "scenario": self.scenario,
            "clients": self.clients,
            "conversations": self.conversations,
            "rate": self.rate,
            "reports": self.reports,
            "errors": self.errors,
            "pushes": self.pushes,
            "expected": self.expected,
            "p50": self.pct(s, 0.5),
            "p90": self.pct(s, 0.9),
            "p99": self.pct(s, 0.99),
            "max": max(s) if s else float("nan"),
            "ack_push_p50": self.pct(a, 0.5),
            "ack_push_p99": self.pct(a, 0.99),
            "ack_p50": self.pct(self.ack_ms, 0.5),
            "ack_p99": self.pct(self.ack_ms, 0.99),
            "server_cpu": self.server_cpu,
            "load": self.load,
        }


def report_body(i: int) -> str:
    sde = {"type": "ctmrinfo", "info": {"cstatus": "active", "ctype": "vip", "customerId": f"R{i}"}}
    body = {"authenticatedData": {"lp_sdes": [sde]}}
    return dumps({"kind": "req", "id": i, "type": "userprofile.SetUserProfile", "body": body})


class Clients:
    """The websocket clients and what they received."""

    def __init__(self, result: Result, sent: dict[int, float], acked: dict[int, float]) -> None:
        self.result = result
        self.sent = sent
        self.acked = acked
        self.seen: set[tuple[int, int]] = set()
        self.tasks: list[asyncio.Task[None]] = []
        self.lost = 0
        self.decode = msgspec.json.Decoder().decode

    async def run_one(
        self, n: int, url: str, conversation_id: str, bound: asyncio.Queue[int]
    ) -> None:
        try:
            async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
                ready = self.decode(await ws.recv())
                if ready.get("type") != "ready":
                    raise BenchError(f"client {n}: {ready}")
                bind = {"type": "bind", "id": 1, "conversationId": conversation_id, "key": "SDE"}
                await ws.send(json.dumps(bind))
                while (m := self.decode(await ws.recv()))["type"] != "ok":
                    if m["type"] == "error":
                        raise BenchError(f"client {n}: {m}")
                bound.put_nowait(n)
                async for raw in ws:
                    now = time.perf_counter()
                    m = self.decode(raw)
                    if m.get("type") != "push" or m.get("key") != "SDE.customerDetails":
                        continue
                    for detail in m.get("newValue") or ():
                        marker = str(detail.get("customerId") or "")
                        if marker.startswith("R") and (n, i := int(marker[1:])) not in self.seen:
                            self.seen.add((n, i))
                            self.record(i, now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a lost client is an error of the run
            self.lost += 1
            print(f"client {n} lost: {exc!r}", file=sys.stderr)
            bound.put_nowait(-1)

    def record(self, i: int, now: float) -> None:
        sent = self.sent.get(i)
        if sent is None:  # a warm-up report
            return
        self.result.pushes += 1
        self.result.send_push_ms.append((now - sent) * 1000)
        acked = self.acked.get(i)
        if acked is not None:
            self.result.ack_push_ms.append((now - acked) * 1000)


async def login_agents(base: str, n: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one(i: int) -> str:
            r = await client.post(
                f"/api/account/{ACCOUNT}/login",
                params={"v": "1.3"},
                json={"username": f"bench-agent-{i}", "password": AGENT_PASSWORD},
            )
            if r.status_code != 200:
                raise BenchError(f"agent login: {r.status_code} {r.text}")
            bearer: str = r.json()["bearer"]
            return bearer

        return list(await asyncio.gather(*(one(i) for i in range(n))))


async def scenario(
    args: argparse.Namespace,
    server: Server,
    channels: str,
    name: str,
    conversations: list[tuple[str, str]],
    bearers: list[str],
    app_jwt: str,
) -> Result:
    per = 1 if name == "spread" else args.shared
    count = max(1, args.clients // per)
    rate = args.rate if name == "spread" else args.shared_rate
    targets = conversations[:count]
    result = Result(channels, name, args.clients, count, rate)
    sent: dict[int, float] = {}
    acked: dict[int, float] = {}
    clients = Clients(result, sent, acked)
    ws_base = server.base.replace("http://", "ws://") + f"/api/account/{ACCOUNT}/agent-workspace/ws"
    bound: asyncio.Queue[int] = asyncio.Queue()
    for n in range(args.clients):
        conversation_id = targets[n % count][0]
        url = f"{ws_base}?token={bearers[n % len(bearers)]}"
        clients.tasks.append(asyncio.create_task(clients.run_one(n, url, conversation_id, bound)))
        if n % 50 == 49:  # connect in waves, as agents log in
            await asyncio.sleep(0.05)
    for _ in range(args.clients):
        await asyncio.wait_for(bound.get(), 120)
    if clients.lost:
        raise BenchError(f"{clients.lost} clients failed to bind")
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=server.base, timeout=30, limits=limits) as http:
        rng = random.Random(7)

        async def report(i: int, conversation: tuple[str, str], timed: bool) -> None:
            headers = {"Authorization": app_jwt, "X-LP-ON-BEHALF": conversation[1]}
            content = report_body(i)
            t0 = time.perf_counter()
            if timed:
                sent[i] = t0
            r = await http.post(PATHS["send"], headers=headers, content=content)
            t1 = time.perf_counter()
            if not timed:
                return
            acked[i] = t1
            result.ack_ms.append((t1 - t0) * 1000)
            if r.status_code != 200:
                result.errors += 1
                print(f"report {i}: {r.status_code} {r.text[:200]}", file=sys.stderr)

        async def stream(first: int, seconds: float, timed: bool) -> int:
            pending: set[asyncio.Task[None]] = set()
            t_start = time.perf_counter()
            i = 0
            while (due := t_start + i / rate) < t_start + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                task = asyncio.create_task(report(first + i, rng.choice(targets), timed))
                pending.add(task)
                task.add_done_callback(pending.discard)
                i += 1
            if pending:
                await asyncio.wait(pending)
            return i

        warm = await stream(10_000_000, args.warmup, timed=False)
        await asyncio.sleep(0.5)
        load_before = os.getloadavg()[0]
        cpu0 = sum(process_cpu(server.pid))
        t0 = time.perf_counter()
        result.reports = await stream(0, args.duration, timed=True)
        elapsed = time.perf_counter() - t0
        await asyncio.sleep(1.0)  # the last pushes
        result.server_cpu = (sum(process_cpu(server.pid)) - cpu0) / elapsed
        result.load = (load_before, os.getloadavg()[0])
        del warm
    # Two reports to one conversation close together may be pushed as one (the later value).
    result.expected = result.reports * per
    for task in clients.tasks:
        task.cancel()
    await asyncio.gather(*clients.tasks, return_exceptions=True)
    if clients.lost:
        raise BenchError(f"{clients.lost} clients lost during the run")
    return result


def start_server(args: argparse.Namespace, workdir: Path, channels: str) -> Server:
    db = workdir / f"push-{channels}.db"
    port = free_port()
    argv = [*sdehub_command(), "serve", "--emulator", "--db", str(db), "--port", str(port)]
    argv += ["--setting", "app_rate_limit", "1000000/second", "--setting", "log_level", "WARNING"]
    if channels == "redis":
        argv += ["--setting", "channels_url", args.redis]
        argv += ["--setting", "channels_prefix", f"bench-push-{uuid.uuid4().hex[:8]}:"]
    return start(f"sdehub-{channels}", argv, port, workdir, db)


async def run_backend(args: argparse.Namespace, workdir: Path, channels: str) -> list[Result]:
    server = start_server(args, workdir, channels)
    try:
        prep = Prep(server.base)
        try:
            app_jwt = await prep.login()
            needed = max(args.clients, 1)
            conversations = await prep.conversations(await prep.consumers(needed))
        finally:
            await prep.close()
        bearers = await login_agents(server.base, args.agents)
        results = []
        for name in args.scenarios:
            result = await scenario(args, server, channels, name, conversations, bearers, app_jwt)
            print(line(result), flush=True)
            results.append(result)
            if not server.alive():
                raise BenchError(f"sdehub died:\n{server.tail()}")
        return results
    finally:
        server.stop()


def line(r: Result) -> str:
    s = r.summary()
    return (
        f"{r.channels:6} {r.scenario:6} clients {r.clients} conv {r.conversations} "
        f"rate {r.rate:g}/s reports {r.reports} pushes {r.pushes}/{r.expected} errors {r.errors} "
        f"send->push p50 {s['p50']:.1f} p90 {s['p90']:.1f} p99 {s['p99']:.1f} "
        f"max {s['max']:.1f} ms "
        f"ack->push p50 {s['ack_push_p50']:.1f} p99 {s['ack_push_p99']:.1f} "
        f"ack p50 {s['ack_p50']:.1f} p99 {s['ack_p99']:.1f} ms "
        f"server CPU {s['server_cpu'] * 100:.0f}% load {r.load[0]:.2f}->{r.load[1]:.2f}"
    )


def table(results: list[Result]) -> str:
    rows = [
        "| channels | scenario | clients | conversations | reports/s | pushes/expected "
        "| send->push p50 / p99 / max ms | ack->push p50 / p99 ms | ack p50 / p99 ms "
        "| server CPU | load avg | p99 target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r.summary()
        verdict = "ok" if s["p99"] <= TARGET_P99_MS else "MISS"
        rows.append(
            f"| {r.channels} | {r.scenario} | {r.clients} | {r.conversations} | {r.rate:g} "
            f"| {r.pushes}/{r.expected} | {s['p50']:.1f} / {s['p99']:.1f} / {s['max']:.1f} "
            f"| {s['ack_push_p50']:.1f} / {s['ack_push_p99']:.1f} "
            f"| {s['ack_p50']:.1f} / {s['ack_p99']:.1f} | {s['server_cpu'] * 100:.0f}% "
            f"| {r.load[0]:.2f} -> {r.load[1]:.2f} | {verdict} |"
        )
    return "\n".join(rows)


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sdehub-push-", dir=args.tmpdir))
    results: list[Result] = []
    try:
        for channels in args.channels:
            results += await run_backend(args, workdir, channels)
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"cores {os.cpu_count()}, load average at the end {os.getloadavg()}")
    print(table(results))
    if args.json:
        data = [{**r.summary(), "raw": asdict(r) if args.raw else None} for r in results]
        Path(args.json).write_text(json.dumps(data, indent=2))
    errors = sum(r.errors for r in results)
    return 1 if errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=1000, help="bound websocket clients")
    p.add_argument("--agents", type=int, default=50, help="agents the clients log in as")
    p.add_argument("--duration", type=float, default=10, help="seconds of timed reports")
    p.add_argument("--warmup", type=float, default=2, help="seconds of untimed reports first")
    p.add_argument("--rate", type=float, default=100, help="reports per second (spread)")
    p.add_argument("--shared", type=int, default=100, help="clients per conversation (shared)")
    p.add_argument("--shared-rate", type=float, default=10, help="reports per second (shared)")
    p.add_argument(
        "--scenarios",
        type=lambda s: [w.strip() for w in s.split(",") if w.strip()],
        default=["spread", "shared"],
    )
    p.add_argument(
        "--channels",
        type=lambda s: [w.strip() for w in s.split(",") if w.strip()],
        default=["memory", "redis"],
        help="channels backends, in order: memory,redis",
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis for 'redis'")
    p.add_argument("--tmpdir", help="where the SQLite files go (a real disk: fsync matters)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", help="also write the results as JSON to this file")
    p.add_argument("--raw", action="store_true", help="with --json: every latency too")
    args = p.parse_args(argv)
    if set(args.scenarios) - {"spread", "shared"} or set(args.channels) - {"memory", "redis"}:
        p.error("scenarios are spread,shared; channels are memory,redis")
    import sdehub

    if Path(sdehub.__file__).resolve().parent.parent != REPO:
        p.error(f"run with PYTHONPATH={REPO}: sdehub resolves to {sdehub.__file__}")
    try:
        return asyncio.run(bench(args))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
