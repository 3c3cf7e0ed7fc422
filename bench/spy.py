"""py-spy sampling of a server during a timed run (optional, ``--py-spy DIR``): raw collapsed
stacks of the GIL holder, one file per workload."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import Server


@dataclass
class Spy:
    process: subprocess.Popen[bytes]
    out: Path


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
