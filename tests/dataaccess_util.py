"""Reading Data Access files back as a warehouse loader would, checking every line."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import fastavro

from sdehub.dataaccess import files


def check_line(line: str) -> dict[str, Any]:
    """Parse one line with fastavro's Avro JSON decoder against the shipped schema; encoding the
    result again must give the line back (so nothing was dropped or coerced)."""
    reader = fastavro.json_reader(io.StringIO(line), files.schema())
    # Keep union branches named, so the record goes back into the same branch.
    reader.options["return_record_name"] = True
    (datum,) = list(reader)
    assert files.encode_line(datum) == line
    return datum  # type: ignore[no-any-return]


def read_file(data: bytes) -> list[dict[str, Any]]:
    """The JSON documents of a gzip file, each line checked against the schema."""
    text = gzip.decompress(data).decode()
    assert text == "" or text.endswith("\n")
    out = []
    for line in text.splitlines():
        check_line(line)
        out.append(json.loads(line))
    return out


def records(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """``(record name, record)`` of every body in the documents."""
    out = []
    for doc in docs:
        for item in doc["recordCollection"]["array"]:
            ((name, body),) = item["body"].items()
            out.append((name.rsplit(".", 1)[1], body))
    return out
