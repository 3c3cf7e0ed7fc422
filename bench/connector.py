#!/usr/bin/env python3
"""Connector API throughput of ONE sdehub worker, as a ratio to a bare Starlette echo app.

Two workloads, each measured against two real servers started as subprocesses:

* ``conversation``: CONVERSATION (``POST /api/account/{id}/messaging/consumer/conversation?v=3``),
  a ``userprofile.SetUserProfile`` with authenticated ``ctmrinfo`` + ``personal`` SDEs followed by
  ``cm.ConsumerRequestConversation``. A consumer may hold only one OPEN conversation, so every
  request carries the ConsumerJWS of a consumer never used before (issued before timing).
* ``send``: SEND (``.../conversation/send?v=3``), an ``ms.PublishEvent`` ``text/plain`` message
  into one of many open conversations, with that conversation's consumer.

The reference is a bare Starlette app (one route returning the request body) on the same uvicorn
configuration, fed the *same request bytes* by the same load generator, with the same concurrency,
interleaved with the sdehub runs (echo, sdehub, echo, sdehub, ...) because the machine is shared and
noisy. The figure reported is the median of the per-round ratios sdehub/echo.

sdehub runs as ``sdehub serve --emulator`` with its default, durable SQLite settings (WAL,
``synchronous=FULL``, group commit): a request is answered only after its commit is durable. After
every sdehub run the bench counts the rows in the SQLite file and checks them against the 200s.

Usage: ``.venv/bin/python bench/connector.py [--duration 10] [--runs 5] [--connections 48]``
(``make bench``). Exit status: 0 when every run was clean (targets missed or not), 1 on errors
(a server died, a non-200 response, a socket error, a durability mismatch).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ACCOUNT = "70000001"
CLIENT_ID = "bench-connector"
CLIENT_SECRET = "bench-secret"
TARGETS = {"send": 0.5, "conversation": 0.35}
TABLES = {"send": "messages", "conversation": "conversations"}
PATHS = {
    "send": f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3",
    "conversation": f"/api/account/{ACCOUNT}/messaging/consumer/conversation?v=3",
}
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jon")
LAST = ("Diaz", "Okafor", "Martin", "Patel", "Schmidt", "Nakamura", "Rossi", "Kowalski")

# --- the echo reference -------------------------------------------------------------------------


def serve_echo(port: int) -> None:
    """The reference: a bare Starlette app, one route answering with the request body, on the
    same uvicorn settings ``sdehub serve`` uses (``sdehub.cli.run_server``)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "PUT"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    db: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads)."""
        user, system = self.cpu_split()
        return user + system

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the server process so far."""
        return process_cpu(self.pid)

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def process_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far (all its threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (sdehub's writer is a child of its forkserver)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, p in parent.items() if p == current]
        found += children
        todo += children
    return found


def descendants_cpu(pid: int) -> float:
    seconds = (sum(process_cpu(child)) for child in descendants(pid))
    return sum(s for s in seconds if is_number(s))


def sdehub_command() -> list[str]:
    exe = Path(sys.executable).parent / "sdehub"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sdehub"]


def start(name: str, argv: list[str], port: int, workdir: Path, db: Path | None = None) -> Server:
    log = workdir / f"{name}.log"
    # The servers run this checkout's code, whichever checkout the virtualenv was installed from.
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    server = Server(name, f"http://127.0.0.1:{port}", process, log, db)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"{name} exited during start:\n{server.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise BenchError(f"{name} did not answer /healthz within 60 s:\n{server.tail()}")


def start_pair(workdir: Path, db: Path, servers: list[Server]) -> tuple[Server, Server]:
    """``sdehub serve --emulator`` on ``db`` (durable defaults, no rate limit, quiet) and the echo
    app, each on a free port; both are added to ``servers`` as soon as they run."""
    port = free_port()
    argv = [*sdehub_command(), "serve", "--emulator", "--db", str(db)]
    argv += ["--port", str(port), "--setting", "app_rate_limit", "1000000/second"]
    argv += ["--setting", "log_level", "WARNING"]
    servers.append(start("sdehub", argv, port, workdir, db))
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--echo-server", str(port)]
    servers.append(start("echo", argv, port, workdir))
    return servers[-2], servers[-1]


class BenchError(Exception):
    pass


# --- request bodies -----------------------------------------------------------------------------


def conversation_body(i: int) -> list[dict[str, Any]]:
    """A CONVERSATION batch as a connector sends it: the profile with authenticated Customer and
    Personal Info, then the conversation request with campaign and context."""
    first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
    return [
        {
            "kind": "req",
            "id": "1,",
            "type": "userprofile.SetUserProfile",
            "body": {
                "firstName": first,
                "lastName": last,
                "authenticatedData": {
                    "lp_sdes": [
                        {
                            "type": "ctmrinfo",
                            "info": {
                                "cstatus": "active",
                                "ctype": "vip",
                                "balance": 412.5,
                                "currency": "USD",
                                "customerId": f"C-{i}",
                                "socialId": f"{first.lower()}.{last.lower()}.{i}",
                                "userName": f"{first.lower()}{i}",
                                "accountName": "Bench Shop",
                                "registrationDate": {"day": 12, "month": 3, "year": 2022},
                                "lastPaymentDate": {"day": 2, "month": 11, "year": 2025},
                            },
                        },
                        {
                            "type": "personal",
                            "personal": {
                                "firstname": first,
                                "lastname": last,
                                "gender": "FEMALE" if i % 2 else "MALE",
                                "age": {"age": 20 + i % 50},
                                "language": "en-US",
                                "company": "Bench Corp",
                                "contacts": [
                                    {
                                        "email": f"{first.lower()}.{i}@example.com",
                                        "phone": f"+1555{1000000 + i % 9000000}",
                                        "phoneType": "MOBILE",
                                    }
                                ],
                            },
                        },
                    ]
                },
            },
        },
        {
            "kind": "req",
            "id": "2,",
            "type": "cm.ConsumerRequestConversation",
            "body": {
                "brandId": ACCOUNT,
                "channelType": "MESSAGING",
                "skillId": "-1",
                "ttrDefName": "NORMAL",
                "campaignInfo": {"campaignId": "99999", "engagementId": "888888"},
                "conversationContext": {
                    "visitorId": f"V-bench-{i:08d}",
                    "sessionId": f"S-bench-{i:08d}",
                    "interactionContextId": "2",
                    "type": "SharkContext",
                    "lang": "en-US",
                },
            },
        },
    ]


def send_body(conversation_id: str, i: int) -> dict[str, Any]:
    return {
        "kind": "req",
        "id": i,
        "type": "ms.PublishEvent",
        "body": {
            "dialogId": conversation_id,
            "event": {
                "type": "ContentEvent",
                "contentType": "text/plain",
                "message": "Hi, I have a question about my order.",
            },
        },
    }


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- preparation over HTTP ----------------------------------------------------------------------


class Prep:
    """AppJWT, ConsumerJWS tokens and open conversations, through sdehub's own HTTP APIs."""

    def __init__(self, base: str, concurrency: int = 32) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=base,
            timeout=60,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.sem = asyncio.Semaphore(concurrency)
        self.app_jwt = ""
        self.next_consumer = 0

    async def close(self) -> None:
        await self.client.aclose()

    async def login(self) -> str:
        r = await self.client.post(
            f"/sentinel/api/account/{ACCOUNT}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        if r.status_code != 200:
            raise BenchError(f"AppJWT: {r.status_code} {r.text}")
        self.app_jwt = r.json()["access_token"]
        return self.app_jwt

    async def _post(self, url: str, **kwargs: Any) -> Any:
        """POST, again on a fresh connection when the server closed an idle keep-alive one just
        as the request went out (uvicorn closes them after 5 s; preparation between rounds on a
        loaded machine hits that)."""
        import httpx

        for attempt in range(3):
            try:
                return await self.client.post(url, **kwargs)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _jws(self, i: int) -> str:
        async with self.sem:
            r = await self._post(
                f"/api/account/{ACCOUNT}/consumer",
                params={"v": "1.0"},
                headers={"Authorization": self.app_jwt},
                json={"ext_consumer_id": f"bench-consumer-{i}"},
            )
        if r.status_code != 201:
            raise BenchError(f"ConsumerJWS: {r.status_code} {r.text}")
        token: str = r.json()["token"]
        return token

    async def consumers(self, n: int) -> list[tuple[int, str]]:
        """``n`` consumers never used before: (index, ConsumerJWS)."""
        first = self.next_consumer
        self.next_consumer += n
        tokens = await asyncio.gather(*(self._jws(i) for i in range(first, first + n)))
        return list(zip(range(first, first + n), tokens, strict=True))

    async def _open(self, i: int, jws: str) -> str:
        async with self.sem:
            r = await self._post(
                PATHS["conversation"],
                headers={"Authorization": self.app_jwt, "X-LP-ON-BEHALF": jws},
                content=dumps(conversation_body(i)),
            )
        if r.status_code != 200:
            raise BenchError(f"CONVERSATION (prep): {r.status_code} {r.text}")
        conversation_id: str = r.json()[1]["body"]["conversationId"]
        return conversation_id

    async def conversations(self, consumers: list[tuple[int, str]]) -> list[tuple[str, str]]:
        """Open one conversation per consumer: (conversation id, ConsumerJWS)."""
        ids = await asyncio.gather(*(self._open(i, jws) for i, jws in consumers))
        return [(cid, jws) for cid, (_, jws) in zip(ids, consumers, strict=True)]


def write_requests(path: Path, workload: str, auth: str, rows: Sequence[tuple[str, str]]) -> None:
    """The load generator's input: the path, the Authorization header, then one
    ``<X-LP-ON-BEHALF>\\t<body>`` line per request."""
    with path.open("w") as f:
        f.write(PATHS[workload] + "\n" + auth + "\n")
        for token, body in rows:
            f.write(f"{token}\t{body}\n")


# --- load generators ----------------------------------------------------------------------------

WRK_COUNTING = r"""
-- Rotation and counting, shared by every request format: the format's init(args) fills
-- `reqs` from the request file args[1] and sets n, stride (args[3]) and i (args[2] + tid).
-- Thread k of T takes requests offset+k, offset+k+T, ...; `wrapped` says the file wrapped.
-- Counts exact 200s, other statuses (with a sample body) and requests sent, so the requests
-- in flight at the cutoff are known.
local threads = {}
local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

reqs, n, i, stride = {}, 0, 0, 1
sent, ok, bad, wrapped, sample = 0, 0, 0, 0, ""

function request()
  if i >= n then wrapped = 1 end
  local r = reqs[(i % n) + 1]
  i = i + stride
  sent = sent + 1
  return r
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local s, o, b, w, hi, smp = 0, 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    o = o + t:get("ok")
    b = b + t:get("bad")
    if t:get("wrapped") == 1 then w = 1 end
    if t:get("i") > hi then hi = t:get("i") end
    if smp == "" then smp = t:get("sample") end
  end
  -- wrk calls request() once more on thread 0, before the run, to check the script's
  -- request (script_verify_request); that one is never sent.
  s = s - 1
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_s":%.6f,"completed":%d,"sent":%d,"ok":%d,"bad":%d,' ..
    '"next_offset":%d,"wrapped":%d,"socket_errors":%d,"timeouts":%d,' ..
    '"p50_ms":%.3f,"p99_ms":%.3f,"mean_ms":%.3f}\n',
    summary.duration / 1e6, summary.requests, s, o, b, hi, w,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
  io.write("BENCH_SAMPLE ", (smp:gsub("\n", " ")), "\n")
end
"""

WRK_SCRIPT = (
    r"""
-- The Connector API request file: line 1 the path, line 2 the Authorization header, then
-- "<X-LP-ON-BEHALF>\t<body>" per request, all POSTed. No two requests of a run share a line
-- (consumer) until the file wraps. args[4] "close" adds Connection: close.
function init(args)
  local f = assert(io.open(args[1], "r"))
  local path, auth = f:read("*l"), f:read("*l")
  for line in f:lines() do
    local tab = line:find("\t", 1, true)
    local headers = {
      ["Authorization"] = auth,
      ["X-LP-ON-BEHALF"] = line:sub(1, tab - 1),
      ["Content-Type"] = "application/json",
    }
    if args[4] == "close" then headers["Connection"] = "close" end
    reqs[#reqs + 1] = wrk.format("POST", path, headers, line:sub(tab + 1))
  end
  f:close()
  n = #reqs
  stride = tonumber(args[3])
  i = tonumber(args[2]) + tid
end
"""
    + WRK_COUNTING
)


@dataclass
class Load:
    """One timed run of the load generator against one server."""

    rps: float
    duration_s: float
    completed: int
    sent: int
    ok: int
    bad: int
    in_flight: int
    next_offset: int
    wrapped: bool
    socket_errors: int
    timeouts: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    sample: str = ""


class Wrk:
    name = "wrk"

    def __init__(
        self,
        workdir: Path,
        connections: int,
        threads: int,
        connection: str,
        script: str = WRK_SCRIPT,
    ) -> None:
        self.connection = connection
        exe = shutil.which("wrk")
        if exe is None:
            raise BenchError("wrk is not installed (apt-get install -y wrk, or --loadgen python)")
        self.exe = exe
        self.script = workdir / "rotate.lua"
        self.script.write_text(script)
        self.connections = connections
        self.threads = threads
        out = subprocess.run([self.exe, "-v"], capture_output=True, text=True)
        self.version = (out.stdout + out.stderr).strip().splitlines()[0].split(" Copyright")[0]

    def run(self, base: str, data: Path, offset: int, duration: float) -> Load:
        argv = [
            self.exe,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{duration:g}s",
            "--timeout",
            "30s",
            "-s",
            str(self.script),
            base + "/",
            "--",
            str(data),
            str(offset),
            str(self.threads),
            self.connection,
        ]
        out = subprocess.run(argv, capture_output=True, text=True)
        match = re.search(r"^BENCH_RESULT (.*)$", out.stdout, re.M)
        if out.returncode != 0 or match is None:
            raise BenchError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        r = json.loads(match.group(1))
        sample = re.search(r"^BENCH_SAMPLE ?(.*)$", out.stdout, re.M)
        return Load(
            rps=r["completed"] / r["duration_s"],
            duration_s=r["duration_s"],
            completed=r["completed"],
            sent=r["sent"],
            ok=r["ok"],
            bad=r["bad"],
            in_flight=r["sent"] - r["ok"] - r["bad"],
            next_offset=r["next_offset"],
            wrapped=bool(r["wrapped"]),
            socket_errors=r["socket_errors"],
            timeouts=r["timeouts"],
            p50_ms=r["p50_ms"],
            p99_ms=r["p99_ms"],
            mean_ms=r["mean_ms"],
            sample=sample.group(1) if sample else "",
        )


class PyLoad:
    """Fallback when wrk is not installed: keep-alive HTTP/1.1 connections on raw asyncio
    streams, no pipelining. After the deadline no new request starts but the ones in flight are
    awaited, so nothing is left in flight. Costs more CPU than wrk: prefer wrk."""

    name = "python-asyncio"
    version = f"asyncio client (Python {sys.version.split()[0]})"

    def __init__(self, workdir: Path, connections: int, threads: int) -> None:
        self.connections = connections

    def run(self, base: str, data: Path, offset: int, duration: float) -> Load:
        return asyncio.run(self._run(base, data, offset, duration))

    async def _run(self, base: str, data: Path, offset: int, duration: float) -> Load:
        host, port = base.removeprefix("http://").split(":")
        lines = data.read_text().splitlines()
        path, auth, rows = lines[0], lines[1], lines[2:]
        reqs = []
        for row in rows:
            token, body = row.split("\t", 1)
            raw = body.encode()
            reqs.append(
                (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Authorization: {auth}\r\nX-LP-ON-BEHALF: {token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
                ).encode()
                + raw
            )
        n = len(reqs)
        state = {"i": offset, "sent": 0, "ok": 0, "bad": 0, "wrapped": False, "sample": ""}
        latencies: list[float] = []
        errors = [0]
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + duration

        async def connection() -> None:
            reader, writer = await asyncio.open_connection(host, int(port))
            try:
                while loop.time() < deadline:
                    i = state["i"]
                    state["i"] = i + 1
                    if i >= n:
                        state["wrapped"] = True
                    state["sent"] += 1
                    t0 = loop.time()
                    writer.write(reqs[i % n])
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head[9:12])
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    body = await reader.readexactly(length)
                    latencies.append(loop.time() - t0)
                    if status == 200:
                        state["ok"] += 1
                    else:
                        state["bad"] += 1
                        if not state["sample"]:
                            state["sample"] = f"{status} {body[:300].decode(errors='replace')}"
            except (OSError, asyncio.IncompleteReadError):
                errors[0] += 1
            finally:
                writer.close()

        await asyncio.gather(*(connection() for _ in range(self.connections)))
        elapsed = loop.time() - started
        latencies.sort()

        def pct(p: float) -> float:
            if not latencies:
                return 0.0
            return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

        done = int(state["ok"]) + int(state["bad"])
        return Load(
            rps=done / elapsed,
            duration_s=elapsed,
            completed=done,
            sent=int(state["sent"]),
            ok=int(state["ok"]),
            bad=int(state["bad"]),
            in_flight=int(state["sent"]) - done,
            next_offset=int(state["i"]),
            wrapped=bool(state["wrapped"]),
            socket_errors=errors[0],
            timeouts=0,
            p50_ms=pct(50),
            p99_ms=pct(99),
            mean_ms=statistics.fmean(latencies) * 1000 if latencies else 0.0,
            sample=str(state["sample"]),
        )


# --- durability ---------------------------------------------------------------------------------


def count_rows(db: Path, table: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def search_pending(db: Path) -> int | None:
    """Rows of the search index's pending tail (None before the tail existed)."""
    try:
        return count_rows(db, "sde_terms_pending")
    except sqlite3.OperationalError:
        return None


def settled_count(db: Path, table: str) -> int:
    """The row count once requests still in flight at the cutoff have been committed."""
    last = count_rows(db, table)
    stable = 0
    while stable < 3:
        time.sleep(0.2)
        now = count_rows(db, table)
        stable = stable + 1 if now == last else 0
        last = now
    return last


# --- the bench ----------------------------------------------------------------------------------


@dataclass
class Run:
    workload: str
    server: str
    round: int
    load: Load
    rows_before: int | None = None
    rows_after: int | None = None
    cpu_us_per_request: float = float("nan")
    writer_cpu_us_per_request: float = float("nan")
    """The server's child processes (sdehub's SQLite writer), when measured."""
    writer_busy: float = float("nan")
    """Share of the run the writer spent running batches (statements and commits), when
    measured: near 1, the writer is the bottleneck."""
    system_share: float = float("nan")
    writes_per_commit: float = float("nan")
    search_pending: int | None = None
    """SDE rows waiting for the search index's move at the end of the run: work the writer
    left for when the load pauses (sdehub.store.terms.BACKLOG bounds it)."""
    problems: list[str] = field(default_factory=list)


@dataclass
class Summary:
    workload: str
    echo_rps: float
    sdehub_rps: float
    ratio: float
    ratio_of_medians: float
    ratios: list[float]
    echo_p50_ms: float
    echo_p99_ms: float
    sdehub_p50_ms: float
    sdehub_p99_ms: float
    echo_cpu_us: float
    sdehub_cpu_us: float
    target: float
    met: bool
    acknowledged: int
    in_flight: int
    rows: int


def check(run: Run, durable: bool, rows_per_request: int = 1) -> None:
    load = run.load
    if load.bad:
        run.problems.append(f"{load.bad} non-200 responses, e.g. {load.sample}")
    if load.socket_errors or load.timeouts:
        run.problems.append(f"{load.socket_errors} socket errors, {load.timeouts} timeouts")
    if load.wrapped and run.server == "sdehub" and run.workload == "conversation":
        run.problems.append("ran out of fresh consumers (raise --consumer-factor)")
    if durable and run.rows_before is not None and run.rows_after is not None:
        rows = run.rows_after - run.rows_before
        each = "" if rows_per_request == 1 else f" ({rows_per_request} rows per request)"
        if rows < rows_per_request * load.ok:
            run.problems.append(
                f"DURABILITY: {load.ok} requests acknowledged with 200 but only {rows} rows stored"
                + each
            )
        elif rows != rows_per_request * (load.ok + load.in_flight):
            run.problems.append(
                f"row count mismatch: {rows} rows stored, {load.ok} acknowledged + "
                f"{load.in_flight} in flight at the cutoff{each}"
            )


def describe_run(run: Run, table: str | None = None) -> str:
    load = run.load
    line = (
        f"  {run.workload:<12} round {run.round}  {run.server:<6} {load.rps:9.1f} req/s  "
        f"p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  "
        f"cpu {run.cpu_us_per_request:6.0f} us/req ({100 * run.system_share:.0f}% system)  "
        + (
            f"writer {run.writer_cpu_us_per_request:.0f} us/req  "
            if is_number(run.writer_cpu_us_per_request)
            else ""
        )
        + (f"writer busy {100 * run.writer_busy:.0f}%  " if is_number(run.writer_busy) else "")
        + (
            f"{run.writes_per_commit:.1f} writes/commit  "
            if is_number(run.writes_per_commit)
            else ""
        )
        + f"({load.ok} x 200"
    )
    if run.rows_after is not None and run.rows_before is not None:
        line += (
            f", {load.in_flight} in flight at cutoff, "
            f"{run.rows_after - run.rows_before} {table or TABLES[run.workload]} rows"
        )
    line += ")"
    if run.search_pending is not None:
        line += f"  [{run.search_pending} search rows pending]"
    if run.problems:
        line += "\n    ! " + "\n    ! ".join(run.problems)
    return line


@dataclass
class Workload:
    """A workload's request file and, for CONVERSATION, its pool of fresh consumers."""

    name: str
    data: Path
    rows: list[tuple[str, str]] = field(default_factory=list)
    offset: int = 0  # the first line (consumer) sdehub has not seen yet
    best_rps: float = 0.0


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.db = workdir / "bench.db"
        self.servers: list[Server] = []
        self.runs: list[Run] = []
        self.failed = False
        self.loop = asyncio.new_event_loop()
        self.version = ""

    def log(self, line: str) -> None:
        print(line, flush=True)

    def start_servers(self) -> None:
        args = self.args
        self.sdehub, self.echo = start_pair(self.workdir, self.db, self.servers)
        if args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk")):
            self.gen: Wrk | PyLoad = Wrk(
                self.workdir, args.connections, args.threads, args.connection
            )
        else:
            if args.connection == "close":
                raise BenchError("--connection close needs wrk (apt-get install -y wrk)")
            self.gen = PyLoad(self.workdir, args.connections, args.threads)
        self.version = f"{self.gen.version}, connection {args.connection}"
        self.log(
            f"sdehub pid {self.sdehub.pid} ({self.sdehub.base}, db {self.db}), "
            f"echo pid {self.echo.pid} ({self.echo.base}); load: {self.version}, "
            f"{args.connections} connections, {args.duration:g} s x {args.runs} rounds; "
            f"{os.cpu_count()} CPUs"
        )
        self.prep = Prep(self.sdehub.base)
        self.loop.run_until_complete(self.prep.login())

    def stop_servers(self) -> None:
        if hasattr(self, "prep"):
            self.loop.run_until_complete(self.prep.close())
        self.loop.close()
        for s in self.servers:
            s.stop()

    # -- preparation (untimed) -----------------------------------------------------------------

    def prepare(self, name: str) -> Workload:
        w = Workload(name, self.workdir / f"{name}.requests")
        if name == "send":
            t0 = time.perf_counter()
            consumers = self.loop.run_until_complete(self.prep.consumers(self.args.conversations))
            opened = self.loop.run_until_complete(self.prep.conversations(consumers))
            w.rows = [(jws, dumps(send_body(cid, i))) for i, (cid, jws) in enumerate(opened)]
            self.log(
                f"  prepared {len(opened)} open conversations for SEND "
                f"in {time.perf_counter() - t0:.1f} s"
            )
        else:
            self.add_consumers(w, self.args.initial_consumers)
        return w

    def add_consumers(self, w: Workload, n: int) -> None:
        t0 = time.perf_counter()
        fresh = self.loop.run_until_complete(self.prep.consumers(n))
        w.rows.extend((jws, dumps(conversation_body(i))) for i, jws in fresh)
        self.log(
            f"  issued {n} ConsumerJWS for CONVERSATION ({len(w.rows) - w.offset} fresh) "
            f"in {time.perf_counter() - t0:.1f} s"
        )

    # -- runs ----------------------------------------------------------------------------------

    def timed(self, w: Workload, server: Server, round_: int, duration: float) -> Run:
        args = self.args
        is_sdehub = server is self.sdehub
        table = TABLES[w.name]
        if is_sdehub and w.name == "conversation":
            # Every CONVERSATION needs a consumer sdehub has not seen: keep enough ready.
            guess = w.best_rps or args.initial_consumers / 2
            need = w.offset + int(guess * duration * args.consumer_factor) + 500
            if need > len(w.rows):
                self.add_consumers(w, need - len(w.rows))
        before = count_rows(self.db, table) if is_sdehub else None
        commits_before = commit_counts(server.base) if is_sdehub else (0.0, 0.0, 0.0)
        writer_cpu = descendants_cpu(server.pid)
        spy = None
        if args.py_spy and is_sdehub and round_ == 1:
            spy = start_py_spy(args, server, w.name, duration, subprocesses=True)
        cpu = server.cpu_seconds()
        user0, system0 = server.cpu_split()
        # The file holds the requests not used yet (for CONVERSATION: the fresh consumers);
        # echo and sdehub both start at its first line, so both get the same bytes.
        write_requests(w.data, w.name, self.prep.app_jwt, w.rows[w.offset :])
        load = self.gen.run(server.base, w.data, 0, duration)
        if spy is not None:
            finish_py_spy(spy, self.log)
        run = Run(w.name, server.name, round_, load, before)
        if is_sdehub:
            run.rows_after = settled_count(self.db, table)
            jobs, commits, busy = commit_counts(server.base)
            run.writes_per_commit = (jobs - commits_before[0]) / max(commits - commits_before[1], 1)
            run.writer_busy = (busy - commits_before[2]) / load.duration_s
            spent = descendants_cpu(server.pid) - writer_cpu
            run.writer_cpu_us_per_request = spent / max(load.ok + max(load.in_flight, 0), 1) * 1e6
            run.search_pending = search_pending(self.db)
        # CPU the server spent per request it processed (those in flight at the cutoff too):
        # much less sensitive to the neighbours' load than req/s.
        processed = load.ok + load.bad + max(load.in_flight, 0)
        run.cpu_us_per_request = (server.cpu_seconds() - cpu) / max(processed, 1) * 1e6
        user1, system1 = server.cpu_split()
        run.system_share = (system1 - system0) / max(user1 - user0 + system1 - system0, 1e-9)
        if is_sdehub:
            if w.name == "conversation":
                w.offset += load.next_offset
                w.best_rps = max(w.best_rps, load.rps)
        for s in self.servers:
            if not s.alive():
                raise BenchError(f"{s.name} died:\n{s.tail()}")
        check(run, durable=is_sdehub)
        self.failed |= bool(run.problems)
        return run

    def workload(self, name: str) -> None:
        w = self.prepare(name)
        if name == "conversation":
            # How many fresh consumers a run uses depends on sdehub's rate: measure it on a
            # short run first (it cannot exhaust the initial pool unless sdehub exceeds
            # --initial-consumers requests per second).
            run = self.timed(w, self.sdehub, 0, 1.0)
            self.log(describe_run(run) + "  [calibration]")
        if self.args.warmup > 0:
            for server in (self.echo, self.sdehub):
                self.log(describe_run(self.timed(w, server, 0, self.args.warmup)) + "  [warm-up]")
        for round_ in range(1, self.args.runs + 1):
            for server in (self.echo, self.sdehub):
                run = self.timed(w, server, round_, self.args.duration)
                self.runs.append(run)
                self.log(describe_run(run))


def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sdehub-bench-", dir=args.tmpdir))
    b = Bench(args, workdir)
    try:
        b.start_servers()
        for name in args.workloads:
            b.workload(name)
    except BenchError as exc:
        b.log(f"ERROR: {exc}")
        b.failed = True
    finally:
        b.stop_servers()
        if args.keep:
            b.log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    summaries = summarize(b.runs, args.workloads, TARGETS)
    if summaries:
        b.log("")
        b.log(table(summaries, args, b.version))
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k != "echo_server"}
        result = {
            "settings": settings,
            "load_generator": b.version,
            "cpus": os.cpu_count(),
            "summary": [asdict(s) for s in summaries],
            "runs": [asdict(r) for r in b.runs],
            "errors": b.failed,
        }
        Path(args.json).write_text(json.dumps(result, indent=2))
    if b.failed:
        b.log("\nERRORS: see the ERROR line or the lines marked '!' above.")
    return 1 if b.failed else 0


def summarize(
    runs: list[Run], workloads: Sequence[str], targets: dict[str, float]
) -> list[Summary]:
    out = []
    for workload in workloads:
        echo = {r.round: r for r in runs if r.workload == workload and r.server == "echo"}
        hub = {r.round: r for r in runs if r.workload == workload and r.server == "sdehub"}
        rounds = sorted(set(echo) & set(hub))
        if not rounds:
            continue
        ratios = [hub[r].load.rps / echo[r].load.rps for r in rounds]
        e_rps = statistics.median(echo[r].load.rps for r in rounds)
        h_rps = statistics.median(hub[r].load.rps for r in rounds)
        ratio = statistics.median(ratios)
        out.append(
            Summary(
                workload=workload,
                echo_rps=e_rps,
                sdehub_rps=h_rps,
                ratio=ratio,
                ratio_of_medians=h_rps / e_rps,
                ratios=ratios,
                echo_p50_ms=statistics.median(echo[r].load.p50_ms for r in rounds),
                echo_p99_ms=statistics.median(echo[r].load.p99_ms for r in rounds),
                sdehub_p50_ms=statistics.median(hub[r].load.p50_ms for r in rounds),
                sdehub_p99_ms=statistics.median(hub[r].load.p99_ms for r in rounds),
                echo_cpu_us=statistics.median(echo[r].cpu_us_per_request for r in rounds),
                sdehub_cpu_us=statistics.median(hub[r].cpu_us_per_request for r in rounds),
                target=targets[workload],
                met=ratio >= targets[workload],
                acknowledged=sum(hub[r].load.ok for r in rounds),
                in_flight=sum(hub[r].load.in_flight for r in rounds),
                rows=sum((hub[r].rows_after or 0) - (hub[r].rows_before or 0) for r in rounds),
            )
        )
    return out


def table(summaries: list[Summary], args: argparse.Namespace, version: str) -> str:
    names = {"send": "SEND", "conversation": "CONVERSATION"}
    lines = [
        f"Medians of {args.runs} interleaved rounds, {args.duration:g} s each, "
        f"{args.connections} connections ({version}), one uvicorn worker each:",
        "",
        "| workload     | echo req/s | sdehub req/s | ratio | target | result | per-round ratios "
        "| echo p50/p99 ms | sdehub p50/p99 ms | CPU us/req echo / sdehub |",
        "|--------------|-----------:|-------------:|------:|-------:|--------|------------------"
        "|----------------:|------------------:|-------------------------:|",
    ]
    for s in summaries:
        per = " ".join(f"{r:.3f}" for r in s.ratios)
        lines.append(
            f"| {names[s.workload]:<12} | {s.echo_rps:10.0f} | {s.sdehub_rps:12.0f} "
            f"| {s.ratio:5.3f} | {s.target:5.2f}x | {'pass' if s.met else 'MISS':<6} | {per} "
            f"| {s.echo_p50_ms:6.1f} / {s.echo_p99_ms:6.1f} "
            f"| {s.sdehub_p50_ms:7.1f} / {s.sdehub_p99_ms:7.1f} "
            f"| {s.echo_cpu_us:6.0f} / {s.sdehub_cpu_us:7.0f} |"
        )
    lines.append("")
    lines.append(
        "ratio = median over rounds of (sdehub req/s / echo req/s), echo and sdehub run back to "
        "back in each round."
    )
    for s in summaries:
        lines.append(
            f"durability {names[s.workload]}: {s.acknowledged} acknowledged (200) + "
            f"{s.in_flight} in flight at the cutoffs = {s.acknowledged + s.in_flight}; "
            f"{TABLES[s.workload]} rows added: {s.rows} -> "
            f"{'OK' if s.rows == s.acknowledged + s.in_flight else 'MISMATCH'}"
        )
    return "\n".join(lines)


# --- profiling (optional) -----------------------------------------------------------------------


@dataclass
class Spy:
    process: subprocess.Popen[bytes]
    out: Path


def is_number(value: float) -> bool:
    return value == value  # not NaN


def metrics(base: str) -> dict[str, float]:
    """sdehub's unlabelled metrics (``/metrics``, Prometheus text) by name."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("sdehub_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def commit_counts(base: str) -> tuple[float, float, float]:
    """(writes, commits, seconds spent in batches) so far, from sdehub's commit histograms."""
    values = metrics(base)
    return (
        values.get("sdehub_commit_batch_size_sum", 0.0),
        values.get("sdehub_commit_batch_size_count", 0.0),
        values.get("sdehub_commit_seconds_sum", 0.0),
    )


def start_py_spy(
    args: argparse.Namespace,
    server: Server,
    workload: str,
    duration: float,
    subprocesses: bool = False,
) -> Spy:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = Path(args.py_spy) / f"{workload}.collapsed.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        exe,
        "record",
        "--pid",
        str(server.pid),
        "--rate",
        "250",
        "--duration",
        str(max(1, int(duration) - 1)),
        "--format",
        "raw",
        "--threads",
        "--output",
        str(out),
        "--nonblocking",
    ]
    if subprocesses:
        argv.append("--subprocesses")
    return Spy(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out)


def finish_py_spy(spy: Spy, log: Any) -> None:
    try:
        spy.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy.process.kill()
    log(f"  py-spy profile: {spy.out}")


# --- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    p.add_argument("--runs", type=int, default=5, help="rounds (echo run + sdehub run each)")
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds per server")
    p.add_argument("--connections", type=int, default=48)
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument(
        "--workloads",
        type=lambda s: [w.strip() for w in s.split(",") if w.strip()],
        default=["send", "conversation"],
        help="comma-separated: send,conversation",
    )
    p.add_argument(
        "--conversations", type=int, default=2000, help="open conversations SEND rotates through"
    )
    p.add_argument(
        "--initial-consumers",
        type=int,
        default=12000,
        help="fresh consumers issued before the CONVERSATION runs (topped up as needed)",
    )
    p.add_argument(
        "--consumer-factor",
        type=float,
        default=1.6,
        help="fresh consumers kept ready per run: factor x best rate x duration",
    )
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument(
        "--connection",
        choices=("close", "keep-alive"),
        default="close",
        help="a new TCP connection per request (close: the set-up the targets were set with, "
        "see docs/benchmarks.md) or persistent connections (keep-alive)",
    )
    p.add_argument("--tmpdir", help="where the SQLite file goes (a real disk: fsync matters)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", help="also write the results as JSON to this file")
    p.add_argument("--py-spy", metavar="DIR", help="record sdehub with py-spy in round 1")
    p.add_argument("--echo-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.echo_server:
        serve_echo(args.echo_server)
        return 0
    unknown = set(args.workloads) - set(TARGETS)
    if unknown:
        p.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
