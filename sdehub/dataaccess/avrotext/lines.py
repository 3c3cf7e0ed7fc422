"""WebSession lines as Avro JSON text, written straight from the rows; the pieces every line
starts with (the Engagement lines' too)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, NamedTuple

import msgspec

from sdehub.dataaccess import files
from sdehub.dataaccess.avrotext.goals import goal_item
from sdehub.dataaccess.avrotext.leaves import esc, header, long, s
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
# A visit's header around its two ids' JSON strings, so a line writes it in one step: split at
# the placeholders' escaped text, which the header holds nowhere else.
_HEAD: Final = header("\0", "\0").split(esc("\0"))
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
    SDE, page and goal. ``sde_texts`` must come in visit order (visitor, then session); the
    pages' and goals' in any.

    As UTF-8 bytes, what the file holds: the queries hand the items over as bytes, so an hour's
    text (12 MB) is neither decoded by the driver nor encoded again for gzip."""
    text = web_session_text_from_texts(account_id, sde_texts, page_texts, goal_texts, 1)
    return [line[:-1] for line in text]


def web_session_text_from_texts(
    account_id: str,
    sde_texts: Iterable[VisitText],
    page_texts: Iterable[VisitText],
    goal_texts: Iterable[VisitText],
    lines: int,
) -> Iterator[bytes]:
    """The same lines as the file's text, each ending in a newline, ``lines`` at a time: each
    piece of text is copied once, into its chunk (joining each line first, then the chunk's
    lines, copied the hour's 12 MB twice). The SDEs' rows are read as the lines are written, so
    an hour's items are never all in memory at once.

    Each kind's pieces are written out in turn, with no loop over the kinds: this runs once per
    visit."""
    start = line_start("WebSession", account_id).encode()
    attrs_opening, attrs_middle = _ATTRS_BYTES
    pages_opening, pages_after, pages_middle = _PAGES_BYTES
    goals_opening, goals_after, goals_middle = _GOALS_BYTES
    closing = _BYTES_CLOSING
    end = _LINE_END + b"\n"
    chunk: list[bytes] = []
    piece = chunk.extend
    count = 0
    for (visitor, session), sdes, pages, goals in _visits(sde_texts, page_texts, goal_texts):
        # header(visitor, session), inline: both are text (the columns are NOT NULL strings)
        head = f"{_HEAD[0]}{esc(session)}{_HEAD[1]}{esc(visitor)}{_HEAD[2]}".encode()
        # The span: the earliest and latest of the kinds' times, compared inline (a call per
        # comparison cost more than the comparisons).
        first: Any = None
        last: Any = None
        if sdes is not None:
            first, last = sdes[3], sdes[4]
        for kind in (pages, goals):
            if kind is not None:
                at = kind[3]
                if at is not None and (first is None or at < first):
                    first = at
                at = kind[4]
                if at is not None and (last is None or at > last):
                    last = at
        if type(first) is int and type(last) is int:
            piece((start, _SPAN % (first, last)))
        else:
            piece((start, span([first, last]).encode()))
        if sdes is not None:
            piece((attrs_opening, head, attrs_middle, sdes[2] or b"", closing))
        if pages is not None:
            opening = pages_opening if sdes is None else pages_after
            piece((opening, head, pages_middle, pages[2] or b"", closing))
        if goals is not None:
            opening = goals_opening if sdes is None and pages is None else goals_after
            piece((opening, head, goals_middle, goals[2] or b"", closing))
        chunk.append(end)
        count += 1
        if count == lines:
            yield b"".join(chunk)
            chunk.clear()
            count = 0
    if chunk:
        yield b"".join(chunk)


Visit = tuple[str, str]


def _visits(
    sde_texts: Iterable[VisitText], page_texts: Iterable[VisitText], goal_texts: Iterable[VisitText]
) -> Iterator[tuple[Visit, Any, Any, Any]]:
    """Every visit of the hour in order, with its SDEs', pages' and goals' texts (None for a
    kind it has none of): the SDEs' as they come (in visit order, read as they are needed), the
    visits with only pages or goals merged in where they belong."""
    pages = {(v[0], v[1]): v for v in page_texts}
    goals = {(v[0], v[1]): v for v in goal_texts}
    # The visits with pages or goals, in order; a visit with both is there twice, side by side.
    # SQLite's queries give each kind in visit order, so there this sort only merges two runs
    # (what it gives never depends on their order).
    others = sorted([*pages, *goals])
    count = len(others)
    at = 0
    previous: Visit | None = None
    for found in sde_texts:
        visit = (found[0], found[1])
        if previous is not None and visit <= previous:
            raise ValueError(f"the SDE texts are not in visit order: {visit} after {previous}")
        previous = visit
        while at < count and others[at] < visit:  # visits without SDEs, before this one
            other = others[at]
            while at < count and others[at] == other:
                at += 1
            yield other, None, pages.get(other), goals.get(other)
        while at < count and others[at] == visit:
            at += 1
        yield visit, found, pages.get(visit), goals.get(visit)
    for other in dict.fromkeys(others[at:]):
        yield other, None, pages.get(other), goals.get(other)


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
