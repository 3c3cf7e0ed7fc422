"""WebSession lines as Avro JSON text, written straight from the rows; the pieces every line
starts with (the Engagement lines' too)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, NamedTuple

import msgspec

from sdehub.dataaccess import files
from sdehub.dataaccess.avrotext.goals import goal_item
from sdehub.dataaccess.avrotext.leaves import header, long, s
from sdehub.dataaccess.avrotext.pages import page_item
from sdehub.dataaccess.avrotext.sdes import data as sde_data
from sdehub.dataaccess.records import NS, by_visit
from sdehub.store.exports import Row

_encode = msgspec.json.encode


# --- WebSession lines ----------------------------------------------------------------------------


def _opening(name: str, field: str) -> tuple[str, str]:
    """A body's text around its header: ``{"body":{"X":{"header":`` and ``,"field":{"array":[``."""
    return f'{{"body":{{"{NS}.{name}":{{"header":', f',"{field}":{{"array":['


_ATTRS: Final = _opening("WebSessionEngAttrsData", "engagementAttributes")
_PAGES: Final = _opening("WebSessionNavigationData", "pageViews")
_GOALS: Final = _opening("WebSessionGoalAchievedData", "achievedGoals")
_CLOSING: Final = "]}}}}"  # the array, its union, the record, its union, the body


def web_session_lines(
    account_id: str, sde_rows: Iterable[Row], page_rows: Iterable[Row], goal_rows: Iterable[Row]
) -> list[str]:
    """The WebSession lines: one per visit, its SDEs, pages and goals, in that order.

    Each line is joined once from its pieces: the records are most of its text, and every
    intermediate string would copy them again."""
    sdes = by_visit(sde_rows)
    pages = by_visit(page_rows)
    goals = by_visit(goal_rows)
    # One ``data`` text per distinct (type, authenticated, payload): most SDEs of an hour repeat.
    seen: dict[tuple[Any, Any, Any], str] = {}
    start = line_start("WebSession", account_id)
    lines = []
    for visit in sorted({*sdes, *pages, *goals}):
        head = header(*visit)
        line = [start, ""]  # the span goes second, once the times are known
        piece = line.append
        times: list[Any] = []
        if visit in sdes:
            piece(_ATTRS[0] + head + _ATTRS[1])
            comma = ""
            for event in sdes[visit]:
                wire, auth, payload = event["wire_type"], event["authenticated"], event["payload"]
                key = (wire, auth, payload if type(payload) is str else _encode(payload))
                data = seen.get(key)
                if data is None:
                    data = seen[key] = sde_data(wire, bool(auth), payload)
                if data:
                    at = event["server_ms"]
                    if type(at) is int:
                        piece(f'{comma}{{"timestamp":{{"long":{at}}}')
                    else:
                        piece(comma + '{"timestamp":' + long(at))
                    piece(data)
                    times.append(at)
                    comma = ","
            piece(_CLOSING)
        if visit in pages:
            visited = pages[visit]
            if len(line) > 2:
                piece(",")
            piece(_PAGES[0] + head + _PAGES[1])
            piece(",".join([page_item(p) for p in visited]))
            piece(_CLOSING)
            times += [p["first_ms"] for p in visited]
        if visit in goals:
            reached = goals[visit]
            if len(line) > 2:
                piece(",")
            piece(_GOALS[0] + head + _GOALS[1])
            piece(",".join([goal_item(g) for g in reached]))
            piece(_CLOSING)
            times += [g["reached_ms"] for g in reached]
        piece("]}}")
        line[1] = span(times)
        lines.append("".join(line))
    return lines


class VisitText(NamedTuple):
    """One visit's part of an hour, as the export's queries aggregate it: the items' text joined
    with commas, as UTF-8 bytes (None when the visit has no item of the kind, as an SDE Data
    Access does not carry), and their first and last times."""

    visitor_id: str
    session_id: str
    items: bytes | None
    first_ms: int | None
    last_ms: int | None


_ATTRS_BYTES: Final = (_ATTRS[0].encode(), _ATTRS[1].encode())
_PAGES_BYTES: Final = (_PAGES[0].encode(), b"," + _PAGES[0].encode(), _PAGES[1].encode())
_GOALS_BYTES: Final = (_GOALS[0].encode(), b"," + _GOALS[0].encode(), _GOALS[1].encode())
_BYTES_CLOSING: Final = _CLOSING.encode()
_LINE_END: Final = b"]}}"
_SPAN: Final = b',"startTime":{"long":%d},"endTime":{"long":%d}}},"recordCollection":{"array":['


def web_session_lines_from_texts(
    account_id: str,
    sde_texts: Iterable[VisitText],
    page_texts: Iterable[VisitText],
    goal_texts: Iterable[VisitText],
) -> list[bytes]:
    """The WebSession lines from the stored items, joined per visit by the export's queries
    (``sdehub.store.exports.web_sde_texts``...): the text :func:`web_session_lines` writes from
    the rows, to the byte, with a few pieces per visit left to Python instead of one or more per
    SDE, page and goal.

    As UTF-8 bytes, what the file holds: the queries hand the items over as bytes, so an hour's
    text (12 MB) is neither decoded by the driver nor encoded again for gzip."""
    return [b"".join(line) for line in _pieces(account_id, sde_texts, page_texts, goal_texts)]


def web_session_text_from_texts(
    account_id: str,
    sde_texts: Iterable[VisitText],
    page_texts: Iterable[VisitText],
    goal_texts: Iterable[VisitText],
    lines: int,
) -> Iterator[bytes]:
    """The same lines as the file's text, each ending in a newline, ``lines`` at a time: each
    piece of text is copied once, into its chunk (joining each line first, then the chunk's
    lines, copied the hour's 12 MB twice)."""
    chunk: list[bytes] = []
    count = 0
    for line in _pieces(account_id, sde_texts, page_texts, goal_texts):
        chunk += line
        chunk.append(b"\n")
        count += 1
        if count == lines:
            yield b"".join(chunk)
            chunk = []
            count = 0
    if chunk:
        yield b"".join(chunk)


def _pieces(
    account_id: str,
    sde_texts: Iterable[VisitText],
    page_texts: Iterable[VisitText],
    goal_texts: Iterable[VisitText],
) -> Iterator[list[bytes]]:
    """Each WebSession line's pieces. The three kinds are written out one by one (no loop over
    them): this runs once per visit of the hour."""
    sdes = {(v[0], v[1]): v for v in sde_texts}
    pages = {(v[0], v[1]): v for v in page_texts}
    goals = {(v[0], v[1]): v for v in goal_texts}
    start = line_start("WebSession", account_id).encode()
    attrs_opening, attrs_middle = _ATTRS_BYTES
    pages_opening, pages_after, pages_middle = _PAGES_BYTES
    goals_opening, goals_after, goals_middle = _GOALS_BYTES
    closing = _BYTES_CLOSING
    visits = sdes.keys() | pages.keys() | goals.keys()
    # Most visits of an hour have SDEs, which the query gives in order: sorting them then takes
    # one pass, where sorting the set of every kind's visits shuffles them first.
    for visit in sorted(sdes if len(visits) == len(sdes) else visits):
        head = header(*visit).encode()
        line = [start, b""]  # the span goes second, once the times are known
        first: Any = None
        last: Any = None
        found = sdes.get(visit)
        if found is not None:
            line += (attrs_opening, head, attrs_middle, found[2] or b"", closing)
            first, last = found[3], found[4]
        found = pages.get(visit)
        if found is not None:
            opening = pages_after if len(line) > 2 else pages_opening
            line += (opening, head, pages_middle, found[2] or b"", closing)
            first, last = _earlier(first, found[3]), _later(last, found[4])
        found = goals.get(visit)
        if found is not None:
            opening = goals_after if len(line) > 2 else goals_opening
            line += (opening, head, goals_middle, found[2] or b"", closing)
            first, last = _earlier(first, found[3]), _later(last, found[4])
        line.append(_LINE_END)
        if type(first) is int and type(last) is int:
            line[1] = _SPAN % (first, last)
        else:
            line[1] = span([first, last]).encode()
        yield line


def _earlier(first: Any, at: Any) -> Any:
    return at if at is not None and (first is None or at < first) else first


def _later(last: Any, at: Any) -> Any:
    return at if at is not None and (last is None or at > last) else last


def line_start(kind: str, account_id: str) -> str:
    """A line's text before its ``startTime``."""
    return (
        f'{{"dataType":{{"{NS}.DataTypeEnum":"{kind}"}},"metaData":{{"{NS}.MetaData":'
        f'{{"accountId":{s(account_id)},"schemaVersion":"{files.SCHEMA_VERSION}"'
    )


def span(times: list[Any]) -> str:
    """A line's ``startTime`` and ``endTime`` text, up to its ``recordCollection``'s array."""
    known = [t for t in times if t is not None]
    if not known:
        return ',"startTime":null,"endTime":null}},"recordCollection":{"array":['
    return (
        f',"startTime":{long(min(known))},"endTime":{long(max(known))}}}}}'
        ',"recordCollection":{"array":['
    )
