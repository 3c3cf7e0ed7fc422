"""The HTTP benches' load generators: wrk with a Lua script, or a lean asyncio client.

Both read a request file and rotate through its requests, and count exact 200s, other statuses
(with a sample body) and requests sent, so the requests still in flight when the load stops are
known. wrk's script is a request format's ``init`` (``connector.WRK_SCRIPT``,
``report.WRK_SCRIPT``) followed by ``WRK_COUNTING``, the rotation and counting they share.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from servers import BenchError

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
        script: str,
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
    streams, no pipelining, over the Connector API request file (``connector.write_requests``).
    After the deadline no new request starts but the ones in flight are awaited, so nothing is
    left in flight. Costs more CPU than wrk: prefer wrk."""

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
