"""Data Access files on disk: names, Avro JSON lines, gzip, atomic writes, listing, retention.

Layout: ``<export_dir>/<accountId>/<DataType>/<Prefix>.<startMs>.<endMs>.part-00000-0.gz``.
The bytes depend on the records only (gzip's timestamp is zeroed), so exporting an hour twice
gives the same file; a rewrite goes to a temporary file renamed over the old one, so a downloader
never sees half a file.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import fastavro
import msgspec
from fastavro.schema import load_schema
from isal import isal_zlib

from sdehub.dataaccess.avrojson import Compiler

SCHEMA_DIR: Final = Path(__file__).resolve().parent.parent / "avro"
TOP: Final = "com.liveperson.dataaccess.DataAccessFile"
SCHEMA_VERSION: Final = "1.0.0.22"
HOUR_MS: Final = 3_600_000
GZIP_LEVEL: Final = 2
GZIP_WBITS: Final = 16 + 15  # a gzip wrapper, 32 KB window
GZIP_CHUNK: Final = 256
# Data type -> (URL resource, file name prefix), as documented.
KINDS: Final = {
    "AgentActivity": ("agentActivity", "Agent"),
    "WebSession": ("webSession", "WebSession"),
    "Engagement": ("engagement", "Engagement"),
    "Survey": ("survey", "Survey"),
}
BY_RESOURCE: Final = {resource: kind for kind, (resource, _) in KINDS.items()}
NAME = re.compile(
    r"^(Agent|WebSession|Engagement|Survey)\.(\d{1,15})\.(\d{1,15})\.part-\d{5}-\d+\.gz$"
)


@functools.cache
def schema() -> Any:
    """The parsed schema of one line (every named record resolved from sdehub/avro/)."""
    return load_schema(str(SCHEMA_DIR / f"{TOP}.avsc"))


def schema_document() -> dict[str, Any]:
    """The schema with every named type inlined, as ``/schema`` serves it."""
    parsed: dict[str, Any] = json.loads(fastavro.schema.to_parsing_canonical_form(schema()))
    return parsed


@functools.cache
def _compiler() -> Compiler:
    compiler = Compiler()
    compiler(schema())
    return compiler


def encode_line(document: dict[str, Any]) -> str:
    return msgspec.json.encode(_compiler().named[TOP](document)).decode()


def document(kind: str, account_id: str, bodies: list[tuple[dict[str, Any], list[int]]]) -> Any:
    """One line: a data type, metadata spanning the records' times, and the records."""
    times = [t for _, ts in bodies for t in ts if t is not None]
    return {
        "dataType": kind,
        "metaData": (
            "com.liveperson.dataaccess.MetaData",
            {
                "accountId": account_id,
                "schemaVersion": SCHEMA_VERSION,
                "startTime": min(times) if times else None,
                "endTime": max(times) if times else None,
            },
        ),
        "recordCollection": [body for body, _ in bodies],
    }


Lines = list[str] | list[bytes]
"""A file's lines: Avro JSON texts, or their UTF-8 bytes (as the Engagement lines are kept)."""


def gzip_lines(lines: Iterable[str] | Iterable[bytes]) -> bytes:
    """The gzip file of these lines (text, or its UTF-8 bytes), each ending in a newline.

    Lines go in a few hundred at a time, so the text never exists whole (a file's text is tens of
    MB, and writing it into fresh memory cost as much as compressing it)."""
    return gzip_text(_chunks(lines))


def gzip_text(chunks: Iterable[bytes]) -> bytes:
    """The gzip file of this text, given in pieces (a few hundred lines each, say).

    isal's deflate: the same format at several times zlib's speed. Its level 2 compresses these
    files 4x faster than its default 3, 8% larger (docs/benchmarks.md). The header's mtime is 0:
    the same text gives the same bytes."""
    deflate = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, GZIP_WBITS)
    out = [deflate.compress(chunk) for chunk in chunks]
    out.append(deflate.flush())
    return b"".join(out)


def _chunks(lines: Iterable[Any]) -> Iterator[bytes]:
    """``GZIP_CHUNK`` lines at a time, each ending in a newline, as bytes."""
    chunk: list[Any] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == GZIP_CHUNK:
            yield _text(chunk)
            chunk = []
    if chunk:
        yield _text(chunk)


def _text(lines: list[Any]) -> bytes:
    lines.append(lines[0][:0])  # "" or b"": the last line's newline
    if type(lines[0]) is bytes:
        return b"\n".join(lines)
    return "\n".join(lines).encode()


def file_name(kind: str, hour_ms: int) -> str:
    return f"{KINDS[kind][1]}.{hour_ms}.{hour_ms + HOUR_MS}.part-00000-0.gz"


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class FileEntry:
    name: str
    path: Path
    start_ms: int
    end_ms: int


def folder(root: Path, account_id: str, kind: str) -> Path:
    return root / account_id / kind


def listing(root: Path, account_id: str, kind: str, start_ms: int, end_ms: int) -> list[FileEntry]:
    """Files whose hour begins in ``[start_ms, end_ms)``: consecutive windows never list a file
    twice, which is how the documented incremental use advances startTime to the last endTime."""
    where = folder(root, account_id, kind)
    if not where.is_dir():
        return []
    found = []
    for path in where.iterdir():
        m = NAME.match(path.name)
        if m and start_ms <= int(m[2]) < end_ms:
            found.append(FileEntry(path.name, path, int(m[2]), int(m[3])))
    return sorted(found, key=lambda f: f.start_ms)


def find(root: Path, account_id: str, kind: str, name: str) -> Path | None:
    if not NAME.match(name):
        return None
    path = folder(root, account_id, kind) / name
    return path if path.is_file() else None


def remove_older(root: Path, account_id: str, before_ms: int) -> int:
    removed = 0
    for kind in KINDS:
        for entry in listing(root, account_id, kind, 0, before_ms):
            entry.path.unlink(missing_ok=True)
            removed += 1
    return removed


def iso(ms: int) -> str:
    """The documented ``2016-07-06T21:00:00-04:00`` form; sdehub states times in UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
