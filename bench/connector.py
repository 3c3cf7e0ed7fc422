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
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import Bench, Workload, add_output_options, add_round_options
from loadgen import WRK_COUNTING, PyLoad, Wrk
from prep import PrepClient
from runs import (
    RATIO_NOTE,
    Run,
    Summary,
    durability_line,
    medians_cells,
    medians_title,
    summarize,
)
from servers import BenchError, Server, serve_echo

ACCOUNT = "70000001"
TARGETS = {"send": 0.5, "conversation": 0.35}
TABLES = {"send": "messages", "conversation": "conversations"}
PATHS = {
    "send": f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3",
    "conversation": f"/api/account/{ACCOUNT}/messaging/consumer/conversation?v=3",
}
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jon")
LAST = ("Diaz", "Okafor", "Martin", "Patel", "Schmidt", "Nakamura", "Rossi", "Kowalski")


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


class Prep(PrepClient):
    """AppJWT, ConsumerJWS tokens and open conversations, through sdehub's own HTTP APIs."""

    def __init__(self, base: str, concurrency: int = 32) -> None:
        super().__init__(base, concurrency)
        self.app_jwt = ""
        self.next_consumer = 0

    async def login(self) -> str:
        self.app_jwt = await self.app_token(ACCOUNT)
        return self.app_jwt

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


# --- the bench ----------------------------------------------------------------------------------


@dataclass
class Pool(Workload):
    """A workload's request file and, for CONVERSATION, its pool of fresh consumers."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    offset: int = 0  # the first line (consumer) sdehub has not seen yet
    best_rps: float = 0.0


class ConnectorBench(Bench):
    pending_terms = True
    prep: Prep

    def generator(self) -> Wrk | PyLoad:
        args = self.args
        if args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk")):
            return Wrk(self.workdir, args.connections, args.threads, args.connection, WRK_SCRIPT)
        if args.connection == "close":
            raise BenchError("--connection close needs wrk (apt-get install -y wrk)")
        return PyLoad(self.workdir, args.connections, args.threads)

    def client(self) -> Prep:
        prep = Prep(self.sdehub.base)
        self.loop.run_until_complete(prep.login())
        return prep

    def table(self, w: Workload) -> str:
        return TABLES[w.name]

    # -- preparation (untimed) -----------------------------------------------------------------

    def prepare(self, name: str) -> Pool:
        w = Pool(name, self.workdir / f"{name}.requests")
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

    def add_consumers(self, w: Pool, n: int) -> None:
        t0 = time.perf_counter()
        fresh = self.loop.run_until_complete(self.prep.consumers(n))
        w.rows.extend((jws, dumps(conversation_body(i))) for i, jws in fresh)
        self.log(
            f"  issued {n} ConsumerJWS for CONVERSATION ({len(w.rows) - w.offset} fresh) "
            f"in {time.perf_counter() - t0:.1f} s"
        )

    def calibrate(self, w: Workload) -> None:
        if w.name == "conversation":
            # How many fresh consumers a run uses depends on sdehub's rate: measure it on a
            # short run first (it cannot exhaust the initial pool unless sdehub exceeds
            # --initial-consumers requests per second).
            run = self.timed(w, self.sdehub, 0, 1.0)
            self.log(self.describe(w, self.sdehub, run) + "  [calibration]")

    # -- runs ----------------------------------------------------------------------------------

    def before_run(self, w: Workload, server: Server, duration: float) -> None:
        assert isinstance(w, Pool)
        if server is self.sdehub and w.name == "conversation":
            # Every CONVERSATION needs a consumer sdehub has not seen: keep enough ready.
            guess = w.best_rps or self.args.initial_consumers / 2
            need = w.offset + int(guess * duration * self.args.consumer_factor) + 500
            if need > len(w.rows):
                self.add_consumers(w, need - len(w.rows))

    def write_requests(self, w: Workload) -> None:
        # The file holds the requests not used yet (for CONVERSATION: the fresh consumers).
        assert isinstance(w, Pool)
        write_requests(w.data, w.name, self.prep.app_jwt, w.rows[w.offset :])

    def after_run(self, w: Workload, server: Server, run: Run) -> None:
        assert isinstance(w, Pool)
        if server is self.sdehub and w.name == "conversation":
            w.offset += run.load.next_offset
            w.best_rps = max(w.best_rps, run.load.rps)


def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sdehub-bench-", dir=args.tmpdir))
    b = ConnectorBench(args, workdir)
    b.run_workloads(args.workloads)
    summaries = summarize(b.runs, args.workloads, TARGETS)
    if summaries:
        b.log("")
        b.log(table(summaries, args, b.version))
    settings = {k: v for k, v in vars(args).items() if k != "echo_server"}
    return b.finish(settings, summaries, {})


def table(summaries: list[Summary], args: argparse.Namespace, version: str) -> str:
    names = {"send": "SEND", "conversation": "CONVERSATION"}
    lines = [
        f"{medians_title(args, version)}:",
        "",
        "| workload     | echo req/s | sdehub req/s | ratio | target | result | per-round ratios "
        "| echo p50/p99 ms | sdehub p50/p99 ms | CPU us/req echo / sdehub |",
        "|--------------|-----------:|-------------:|------:|-------:|--------|------------------"
        "|----------------:|------------------:|-------------------------:|",
    ]
    for s in summaries:
        lines.append(
            f"| {names[s.workload]:<12} "
            + medians_cells(s)
            + f"| {s.echo_cpu_us:6.0f} / {s.sdehub_cpu_us:7.0f} |"
        )
    lines.append("")
    lines.append(f"{RATIO_NOTE}.")
    for s in summaries:
        lines.append(durability_line(names[s.workload], s, TABLES[s.workload]))
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_round_options(p)
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
    add_output_options(p)
    p.add_argument("--py-spy", metavar="DIR", help="record sdehub with py-spy in round 1")
    # The echo app, as this script ran it before bench/servers.py did (kept for callers).
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
