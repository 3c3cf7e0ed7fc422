#!/usr/bin/env python3
"""Monitoring reports and targeting: durable SDE reports per second on ONE sdehub worker, as a
ratio to a bare Starlette echo app, and targeting decisions per second in process.

HTTP workloads, each request carrying the same two SDEs (a ``cart`` and a ``prodView``) into one
of ``--visits`` visits started beforehand through the engagement method (untimed):

* ``report``: the Monitoring API report method,
  ``PUT /api/account/{a}/app/{app}/report?v=1.1&vid=&sid=`` with
  ``{"pageId": ..., "engagementAttributes": [cart, prodView]}``;
* ``events``: the Engagement Attributes API,
  ``PUT /api/account/{a}/monitoring/visitors/{vid}/visits/current/events?v=1&sid=`` with an
  AppJWT from Sentinel and the JSON array ``[cart, prodView]``;
* ``report+catalog``: ``report`` into another account whose targeting catalog is
  ``sdehub/demo_catalog.yaml``, so every report also builds the visit's model and evaluates
  the goals (in the same write).

The method is ``bench/connector.py``'s, on the same harness (``bench/harness.py``): the same
servers (``sdehub serve --emulator``, default durable SQLite settings, and the echo app on the
same uvicorn settings), the same request bytes for both from ``wrk`` with a Lua script, rounds
interleaved echo/sdehub, the median of the per-round ratios, CPU per request from ``/proc``
(here also the CPU of sdehub's writer process and how busy it was), and a durability check
after every sdehub run:
the ``sde_events`` rows added must be 2 x (200 responses + requests in flight at the cutoff).

``targeting``, in process: ``sdehub.targeting.decide`` with a compiled catalog of 100 published
campaigns (``bench/targeting_data.py``, ``Random(42)``) over visits whose SDEs went through the
real decoder, (a) visits no engagement is eligible for, so every campaign is tried, and (b) the
generator's visits as they come. The same-run reference is decoding each visit's SDE JSON into
sdehub's typed records with msgspec (``msgspec.json.decode(raw, type=list[Event])``): C code
that sdehub does not change, proportional to the visit's data, and work every report pays. The
ratio is how many such decodes one decision costs in CPU time (lower is better), median over
interleaved rounds.

Usage: ``.venv/bin/python bench/report.py [--duration 10] [--runs 5] [--connections 48]``
(``make bench``). Exit status: 0 when every run was clean (targets missed or not), 1 on errors
(a server died, a non-200 response, a socket error, a durability mismatch).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import targeting_data
import yaml
from connector import dumps
from harness import Bench, Workload, add_output_options, add_round_options
from loadgen import WRK_COUNTING, Wrk
from prep import PrepClient
from runs import (
    RATIO_NOTE,
    Run,
    Summary,
    durability_line,
    is_number,
    medians_cells,
    medians_title,
    summarize,
)
from servers import REPO, BenchError, Server

import sdehub
from sdehub.demo import CATALOG as PRODUCTS
from sdehub.model.types import Event
from sdehub.targeting import Targeting, compile_catalog, decide

ACCOUNT = "70000011"
CATALOG_ACCOUNT = "70000012"
APP = "bench-app"
TABLE = "sde_events"
SDES_PER_REQUEST = 2
HTTP_WORKLOADS = ("report", "events", "report+catalog")
TARGETS = {"report": 0.5, "events": 0.5, "report+catalog": float("nan")}  # catalog: no target
CATALOG_FILE = REPO / "sdehub" / "demo_catalog.yaml"

# --- request bodies ---------------------------------------------------------------------------


def sdes(i: int) -> list[dict[str, Any]]:
    """The two SDEs every request reports: the cart now, and a product viewed."""
    name, category, sku, price = PRODUCTS[i % len(PRODUCTS)]
    quantity = 1 + i % 3
    viewed = PRODUCTS[(7 * i + 3) % len(PRODUCTS)]
    return [
        {
            "type": "cart",
            "total": round(price * quantity, 2),
            "currency": "USD",
            "numItems": quantity,
            "products": [
                {
                    "product": {"name": name, "category": category, "sku": sku, "price": price},
                    "quantity": quantity,
                }
            ],
        },
        {
            "type": "prodView",
            "currency": "USD",
            "products": [
                {
                    "product": {
                        "name": viewed[0],
                        "category": viewed[1],
                        "sku": viewed[2],
                        "price": viewed[3],
                        "statusInStock": "in stock",
                    }
                }
            ],
        },
    ]


def engagement_body(i: int) -> dict[str, Any]:
    """The engagement call that starts visit ``i``, with one SDE."""
    return {
        "entryPoints": ["sec://home", f"https://shop.example/home/{i}"],
        "clientProperties": {"deviceFamily": "DESKTOP", "os": "WINDOWS"},
        "engagementAttributes": [
            {"type": "ctmrinfo", "info": {"ctype": ("gold", "regular")[i % 2]}}
        ],
    }


@dataclass(frozen=True)
class VisitIds:
    visitor_id: str
    session_id: str
    page_id: str


def request_line(workload: str, visit: VisitIds, i: int, app_jwt: str) -> str:
    """One line of the load generator's input: method, path, body, then headers, tab-separated."""
    if workload == "events":
        path = (
            f"/api/account/{ACCOUNT}/monitoring/visitors/{visit.visitor_id}/visits/current/events"
            f"?v=1&sid={visit.session_id}"
        )
        body = dumps(sdes(i))
        headers = ["Content-Type: application/json", f"Authorization: Bearer {app_jwt}"]
    else:
        account = CATALOG_ACCOUNT if workload == "report+catalog" else ACCOUNT
        path = (
            f"/api/account/{account}/app/{APP}/report"
            f"?v=1.1&vid={visit.visitor_id}&sid={visit.session_id}"
        )
        body = dumps({"pageId": visit.page_id, "engagementAttributes": sdes(i)})
        headers = ["Content-Type: application/json"]
    return "\t".join(["PUT", path, body, *headers])


WRK_SCRIPT = (
    r"""
-- One request per line of the request file, tab-separated:
-- "<method>\t<path>\t<body>[\t<header>: <value>]...". args[4] "close" adds Connection: close.
local function fields(line)
  local out, from = {}, 1
  while true do
    local tab = line:find("\t", from, true)
    if tab == nil then
      out[#out + 1] = line:sub(from)
      return out
    end
    out[#out + 1] = line:sub(from, tab - 1)
    from = tab + 1
  end
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local p = fields(line)
    local headers = {}
    for k = 4, #p do
      local colon = p[k]:find(": ", 1, true)
      headers[p[k]:sub(1, colon - 1)] = p[k]:sub(colon + 2)
    end
    if args[4] == "close" then headers["Connection"] = "close" end
    reqs[#reqs + 1] = wrk.format(p[1], p[2], headers, p[3])
  end
  f:close()
  n = #reqs
  stride = tonumber(args[3])
  i = tonumber(args[2]) + tid
end
"""
    + WRK_COUNTING
)


# --- preparation over HTTP (untimed) ----------------------------------------------------------


class Prep(PrepClient):
    """AppJWT, agent bearer, catalog and visits, through sdehub's own HTTP APIs."""

    async def load_catalog(self, account: str, catalog: dict[str, Any]) -> int:
        r = await self.client.post(
            f"/api/account/{account}/login",
            params={"v": "1.3"},
            json={"username": "bench-admin", "password": "bench"},
        )
        if r.status_code != 200:
            raise BenchError(f"agent login: {r.status_code} {r.text}")
        r = await self.client.put(
            f"/api/account/{account}/admin/catalog",
            headers={"Authorization": f"Bearer {r.json()['bearer']}"},
            json=catalog,
        )
        if r.status_code != 200:
            raise BenchError(f"PUT catalog: {r.status_code} {r.text}")
        revision: int = r.json()["revision"]
        return revision

    async def _visit(self, account: str, i: int) -> VisitIds:
        async with self.sem:
            r = await self.client.post(
                f"/api/account/{account}/app/{APP}/engagement",
                params={"v": "1.1"},
                json=engagement_body(i),
            )
        if r.status_code != 201:
            raise BenchError(f"engagement (prep): {r.status_code} {r.text}")
        ids = r.json()
        return VisitIds(ids["visitorId"], ids["sessionId"], ids["pageId"])

    async def visits(self, account: str, n: int) -> list[VisitIds]:
        return list(await asyncio.gather(*(self._visit(account, i) for i in range(n))))


# --- the HTTP bench ---------------------------------------------------------------------------


@dataclass
class Visits(Workload):
    visits: int
    stored: int
    """SDEs stored in the workload's visits so far: a report with a catalog reads its visit's."""

    def per_visit(self) -> str:
        return f"{self.stored / self.visits:.0f} SDEs per visit"


class ReportBench(Bench):
    rows_per_request = SDES_PER_REQUEST
    prep: Prep

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        super().__init__(args, workdir)
        self.app_jwt = ""

    def generator(self) -> Wrk:
        args = self.args
        if shutil.which("wrk") is None:
            raise BenchError("wrk is not installed (apt-get install -y wrk)")
        return Wrk(self.workdir, args.connections, args.threads, args.connection, WRK_SCRIPT)

    def client(self) -> Prep:
        return Prep(self.sdehub.base)

    def table(self, w: Workload) -> str:
        return TABLE

    def prepare(self, name: str) -> Visits:
        run = self.loop.run_until_complete
        t0 = time.perf_counter()
        account = ACCOUNT
        if name == "report+catalog":
            account = CATALOG_ACCOUNT
            revision = run(
                self.prep.load_catalog(account, yaml.safe_load(CATALOG_FILE.read_text()))
            )
            self.log(f"  account {account}: catalog {CATALOG_FILE.name}, revision {revision}")
        if name == "events" and not self.app_jwt:
            self.app_jwt = run(self.prep.app_token(account))
        visits = run(self.prep.visits(account, self.args.visits))
        # Each visit starts with the one SDE of its engagement call.
        w = Visits(name, self.workdir / f"{name}.requests", len(visits), len(visits))
        with w.data.open("w") as f:
            for i in range(self.args.requests):
                f.write(request_line(name, visits[i % len(visits)], i, self.app_jwt) + "\n")
        self.log(
            f"  prepared {len(visits)} visits ({account}) and {self.args.requests} {name} "
            f"requests in {time.perf_counter() - t0:.1f} s"
        )
        return w

    def after_run(self, w: Workload, server: Server, run: Run) -> None:
        assert isinstance(w, Visits)
        if run.rows_after is not None:
            w.stored += run.rows_after - (run.rows_before or 0)

    def describe(self, w: Workload, server: Server, run: Run) -> str:
        assert isinstance(w, Visits)
        line = super().describe(w, server, run)
        return line + f"  [{w.per_visit()}]" if server is self.sdehub else line


def http_table(
    summaries: list[Summary], runs: list[Run], args: argparse.Namespace, version: str
) -> str:
    lines = [
        f"{medians_title(args, version)}; every request reports {SDES_PER_REQUEST} SDEs:",
        "",
        "| workload       | echo req/s | sdehub req/s | ratio | target | result | per-round ratios "
        "| echo p50/p99 ms | sdehub p50/p99 ms | CPU us/req echo / sdehub / writer |",
        "|----------------|-----------:|-------------:|------:|-------:|--------|------------------"
        "|----------------:|------------------:|----------------------------------:|",
    ]
    for s in summaries:
        hub = [r for r in runs if r.workload == s.workload and r.server == "sdehub"]
        writer = statistics.median(r.writer_cpu_us_per_request for r in hub)
        lines.append(
            f"| {s.workload:<14} "
            + medians_cells(s)
            + f"| {s.echo_cpu_us:6.0f} / {s.sdehub_cpu_us:6.0f} / {writer:6.0f} |"
        )
    lines.append("")
    lines.append(f"{RATIO_NOTE}; writer = sdehub's SQLite writer process (the other core).")
    for s in summaries:
        lines.append(durability_line(s.workload, s, TABLE, SDES_PER_REQUEST))
    return "\n".join(lines)


# --- targeting, in process --------------------------------------------------------------------


@dataclass
class TargetingResult:
    visits: str
    count: int
    offered: float
    """Share of the visits offered an engagement."""
    position: float
    """Median position (1 = first) of the chosen campaign in priority order, when offered."""
    decisions_per_s: float
    """Wall clock."""
    decision_us: float
    """CPU time per decision."""
    baseline_us: float
    """CPU time per baseline decode."""
    ratio: float
    """decision_us / baseline_us: how many typed decodes of the visit's SDEs one decision costs."""
    ratios: list[float] = field(default_factory=list)


def per_item(fn: Callable[[], None], items: int, seconds: float) -> tuple[float, float]:
    """(wall, CPU) microseconds per item of ``fn``, one pass over ``items`` items, repeated for
    at least ``seconds``."""
    gc.collect()
    passes, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        passes += 1
        wall = time.perf_counter() - wall0
        if wall >= seconds:
            break
    cpu = time.process_time() - cpu0
    return wall / passes / items * 1e6, cpu / passes / items * 1e6


def targeting(args: argparse.Namespace, log: Callable[[str], None]) -> list[TargetingResult]:
    t0 = time.perf_counter()
    compiled: Targeting = compile_catalog(targeting_data.catalog(campaigns=args.campaigns))
    now = targeting_data.NOW_MS
    if not all(c.campaign.live(now) for c in compiled.campaigns):
        raise BenchError("every generated campaign should be live")
    order = {c.campaign.id: k + 1 for k, c in enumerate(compiled.campaigns)}
    pool = targeting_data.visits(n=args.targeting_visits)
    # The worst case: visits no engagement is eligible for, so decide() tries every campaign.
    # Drawn from the same generator, continued until there are as many as in the typical set.
    worst = [s for s in pool if decide(s.visit, compiled, now) is None]
    more = args.targeting_visits
    while len(worst) < args.targeting_visits and more < 20 * args.targeting_visits:
        more *= 2
        pool_more = targeting_data.visits(n=more)[len(pool) :]
        worst += [s for s in pool_more if decide(s.visit, compiled, now) is None]
    worst = worst[: args.targeting_visits]
    decoder = msgspec.json.Decoder(list[Event])
    for s in pool:
        if decoder.decode(s.sdes_json) != [e.record for e in s.visit.entries]:
            raise BenchError("the baseline decode does not give the records the decoder gave")
    sets = {
        f"none eligible ({len(compiled.campaigns)} campaigns tried)": worst,
        "typical mix": pool,
    }
    log(
        f"targeting: {len(compiled.campaigns)} campaigns, "
        f"{sum(len(c.engagements) for c in compiled.campaigns)} engagements; "
        f"{len(worst)} + {len(pool)} visits prepared in {time.perf_counter() - t0:.1f} s"
    )
    results = []
    for name, samples in sets.items():
        visits = [s.visit for s in samples]
        raws = [s.sdes_json for s in samples]
        chosen = [decide(v, compiled, now) for v in visits]
        positions = [order[d.campaignId] for d in chosen if d is not None]

        def decisions(visits: list[Any] = visits) -> None:
            for v in visits:
                decide(v, compiled, now)

        def baseline(raws: list[bytes] = raws) -> None:
            for raw in raws:
                decoder.decode(raw)

        ratios, rates, decision_us, baseline_us = [], [], [], []
        for round_ in range(1, args.runs + 1):
            base_wall, base = per_item(baseline, len(raws), args.targeting_seconds)
            wall, cpu = per_item(decisions, len(visits), args.targeting_seconds)
            ratios.append(cpu / base)
            rates.append(1e6 / wall)
            decision_us.append(cpu)
            baseline_us.append(base)
            log(
                f"  {name:<34} round {round_}  decide {cpu:6.1f} us cpu ({wall:6.1f} wall, "
                f"{1e6 / wall:6.0f}/s)  baseline {base:5.2f} us cpu ({base_wall:5.2f} wall)  "
                f"ratio {cpu / base:5.1f}"
            )
        results.append(
            TargetingResult(
                visits=name,
                count=len(visits),
                offered=len(positions) / len(visits),
                position=statistics.median(positions) if positions else float("nan"),
                decisions_per_s=statistics.median(rates),
                decision_us=statistics.median(decision_us),
                baseline_us=statistics.median(baseline_us),
                ratio=statistics.median(ratios),
                ratios=ratios,
            )
        )
    return results


def targeting_table(results: list[TargetingResult], args: argparse.Namespace) -> str:
    lines = [
        f"Targeting in process, medians of {args.runs} interleaved rounds of "
        f">= {args.targeting_seconds:g} s per measurement:",
        "",
        "| visits | n | offered | chosen campaign (median position) | decisions/s (wall) "
        "| CPU us/decision | baseline CPU us/visit | ratio | per-round ratios |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        position = "-" if not is_number(r.position) else f"{r.position:g}"
        per = " ".join(f"{x:.1f}" for x in r.ratios)
        lines.append(
            f"| {r.visits} | {r.count} | {100 * r.offered:.0f}% | {position} "
            f"| {r.decisions_per_s:.0f} | {r.decision_us:.1f} | {r.baseline_us:.2f} "
            f"| {r.ratio:.1f} | {per} |"
        )
    lines.append("")
    lines.append(
        "baseline = msgspec-decoding the visit's SDE JSON into sdehub's typed records; "
        "ratio = CPU us/decision / baseline CPU us (decodes per decision, lower is better)."
    )
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="sdehub-report-", dir=args.tmpdir))
    b = ReportBench(args, workdir)
    http = [w for w in args.workloads if w in HTTP_WORKLOADS]
    results: list[TargetingResult] = []
    b.run_workloads(http)
    if "targeting" in args.workloads:
        try:
            results = targeting(args, b.log)
        except BenchError as exc:
            b.log(f"ERROR: {exc}")
            b.failed = True

    summaries = summarize(b.runs, http, TARGETS)
    if summaries:
        b.log("")
        b.log(http_table(summaries, b.runs, args, b.version))
    if results:
        b.log("")
        b.log(targeting_table(results, args))
    return b.finish(vars(args), summaries, {"targeting": [asdict(r) for r in results]})


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_round_options(p)
    p.add_argument(
        "--workloads",
        type=lambda s: [w.strip() for w in s.split(",") if w.strip()],
        default=[*HTTP_WORKLOADS, "targeting"],
        help="comma-separated: report,events,report+catalog,targeting",
    )
    p.add_argument("--visits", type=int, default=1000, help="visits the requests rotate over")
    p.add_argument("--requests", type=int, default=4000, help="distinct requests per workload")
    p.add_argument(
        "--connection",
        choices=("close", "keep-alive"),
        default="close",
        help="a new TCP connection per request (close, as bench/connector.py) or persistent ones",
    )
    p.add_argument("--campaigns", type=int, default=100, help="campaigns of the targeting catalog")
    p.add_argument("--targeting-visits", type=int, default=1000, help="visits per targeting set")
    p.add_argument(
        "--targeting-seconds",
        type=float,
        default=1.0,
        help="minimum seconds per targeting measurement (decide or baseline) per round",
    )
    add_output_options(p)
    p.add_argument(
        "--py-spy", metavar="DIR", help="record sdehub and its writer with py-spy in round 1"
    )
    args = p.parse_args(argv)
    unknown = set(args.workloads) - {*HTTP_WORKLOADS, "targeting"}
    if unknown:
        p.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    here = Path(sdehub.__file__).resolve().parent.parent
    if here != REPO:
        # The servers run this checkout (servers.start sets PYTHONPATH); so must we.
        p.error(f"sdehub is imported from {here}, not {REPO}: run with PYTHONPATH={REPO}")
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
