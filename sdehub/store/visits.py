"""Visitors, their monitor sessions (visits), the pages of a visit and the engagements offered
in it. Every query is scoped by ``account_id``."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub.dataaccess.avrotext.pages import page_item
from sdehub.store.exports import visit_item
from sdehub.store.sql import Sql, TableSql, one, rows, run, to_json
from sdehub.store.tables import (
    page_avro_texts,
    visit_engagements,
    visit_pages,
    visitors,
    visits,
)


class Visit(msgspec.Struct, kw_only=True):
    account_id: str
    visitor_id: str
    session_id: str
    app_id: str
    created_ms: int
    last_ms: int
    expires_ms: int
    returning_visitor: bool
    consumer_id: str | None = None
    identities: list[dict[str, Any]] | None = None
    client_properties: dict[str, Any] | None = None
    ip_address: str | None = None
    engagements_offered: int = 0


class Page(msgspec.Struct, kw_only=True):
    page_id: str
    first_ms: int
    last_ms: int
    entry_points: list[str]


class Offer(msgspec.Struct, kw_only=True):
    """An engagement offered in a visit, under its engagement context id."""

    context_id: str
    campaign_id: str
    engagement_id: str
    revision: int
    page_id: str
    offered_ms: int
    details: dict[str, Any]


VISITORS = TableSql(visitors)
VISITS = TableSql(visits)
PAGES = TableSql(visit_pages)
OFFERS = TableSql(visit_engagements)
PAGE_TEXTS = TableSql(page_avro_texts)

_VISITOR = VISITORS.select("account_id = :account_id AND visitor_id = :visitor_id")
_ADD_VISITOR = VISITORS.insert()
_COUNT_VISIT = Sql(
    "UPDATE visitors SET visits = visits + 1, last_ms = :last_ms"
    " WHERE account_id = :account_id AND visitor_id = :visitor_id"
)
_VISIT = VISITS.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
)
_ADD_VISIT = VISITS.insert()
# Per (facts given, live_at given): only the facts given are set (the others are kept), so a
# report without identity facts binds and writes two columns, not five (2 us less a report).
_TOUCH: dict[tuple[tuple[str, ...], bool], Sql] = {}
_FACTS = ("consumer_id", "identities", "client_properties", "ip_address")
_NEXT_CONTEXT = Sql(
    "UPDATE visits SET engagements_offered = engagements_offered + 1"
    " WHERE account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
    " RETURNING engagements_offered"
)
_PAGE = PAGES.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
    " AND page_id = :page_id"
)
_ADD_PAGE = PAGES.insert()
_SEEN_PAGE = Sql(
    "UPDATE visit_pages SET last_ms = :last_ms"
    " WHERE account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
    " AND page_id = :page_id"
)
_UPDATE_PAGE = Sql(
    "UPDATE visit_pages SET last_ms = :last_ms, entry_points = {json:entry_points}"
    " WHERE account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
    " AND page_id = :page_id"
)
_ADD_PAGE_TEXT = PAGE_TEXTS.insert()
_UPDATE_PAGE_TEXT = Sql(
    "UPDATE page_avro_texts SET avro = :avro WHERE account_id = :account_id"
    " AND hour_ms = :hour_ms AND visitor_id = :visitor_id AND session_id = :session_id"
    " AND first_ms = :first_ms AND page_id = :page_id"
)
_PAGES = PAGES.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id",
    "ORDER BY first_ms, page_id",
)
_ADD_OFFER = OFFERS.insert()
_OFFERS = OFFERS.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id",
    "ORDER BY offered_ms, context_id",
)


def _key(account_id: str, visitor_id: str, session_id: str) -> dict[str, Any]:
    return {"account_id": account_id, "visitor_id": visitor_id, "session_id": session_id}


def visitor_exists(conn: Connection, account_id: str, visitor_id: str) -> bool:
    params = {"account_id": account_id, "visitor_id": visitor_id}
    return one(conn, _VISITOR, params) is not None


def get_visit(conn: Connection, account_id: str, visitor_id: str, session_id: str) -> Visit | None:
    row = one(conn, _VISIT, _key(account_id, visitor_id, session_id))
    return None if row is None else Visit(**VISITS.decode(row))


def start_visit(conn: Connection, visit: Visit) -> None:
    """A new visit; its visitor is created on its first visit, counted on the next ones."""
    params = {"account_id": visit.account_id, "visitor_id": visit.visitor_id}
    if one(conn, _VISITOR, params) is None:
        run(
            conn,
            _ADD_VISITOR,
            {**params, "created_ms": visit.created_ms, "last_ms": visit.created_ms, "visits": 1},
        )
    else:
        run(conn, _COUNT_VISIT, {**params, "last_ms": visit.created_ms})
    run(conn, _ADD_VISIT, VISITS.encode(msgspec.structs.asdict(visit)))


def touch_visit(
    conn: Connection,
    account_id: str,
    visitor_id: str,
    session_id: str,
    *,
    last_ms: int,
    consumer_id: str | None = None,
    identities: list[dict[str, Any]] | None = None,
    client_properties: dict[str, Any] | None = None,
    ip_address: str | None = None,
    live_at: int | None = None,
) -> bool:
    """Record activity; identity facts given now replace the earlier ones. With ``live_at``,
    only a visit that has not expired by then is touched. True when a visit was: a caller
    continuing a visit learns in one statement whether there is one to continue, instead of
    reading it first."""
    params: dict[str, Any] = {
        "account_id": account_id,
        "visitor_id": visitor_id,
        "session_id": session_id,
        "last_ms": last_ms,
    }
    if consumer_id is not None:
        params["consumer_id"] = consumer_id
    if identities is not None:
        params["identities"] = to_json(identities)
    if client_properties is not None:
        params["client_properties"] = to_json(client_properties)
    if ip_address is not None:
        params["ip_address"] = ip_address
    if live_at is not None:
        params["live_at"] = live_at
    given = tuple(f for f in _FACTS if f in params)
    sql = _TOUCH.get((given, live_at is not None))
    if sql is None:
        sql = _TOUCH[(given, live_at is not None)] = _touch(given, live=live_at is not None)
    return bool(run(conn, sql, params).rowcount)


def _touch(facts: tuple[str, ...], *, live: bool) -> Sql:
    sets = "".join(f", {f} = {{json:{f}}}" if f in VISITS.json else f", {f} = :{f}" for f in facts)
    return Sql(
        f"UPDATE visits SET last_ms = :last_ms{sets} WHERE account_id = :account_id"
        " AND visitor_id = :visitor_id AND session_id = :session_id"
        + (" AND expires_ms > :live_at" if live else "")
    )


def put_page(
    conn: Connection,
    account_id: str,
    visitor_id: str,
    session_id: str,
    page_id: str,
    entry_points: list[str] | None,
    now_ms: int,
) -> bool:
    """A page seen in a visit; entry points reported again for it replace the earlier ones.
    True when the page is new to the visit."""
    key = {**_key(account_id, visitor_id, session_id), "page_id": page_id}
    if not entry_points:
        # Nothing to replace: a page seen again is one UPDATE, not a read and an UPDATE.
        if run(conn, _SEEN_PAGE, {**key, "last_ms": now_ms}).rowcount:
            return False
        row = None
    else:
        row = one(conn, _PAGE, key)
    if row is None:
        values = {**key, "first_ms": now_ms, "last_ms": now_ms, "entry_points": entry_points or []}
        run(conn, _ADD_PAGE, PAGES.encode(values))
        run(conn, _ADD_PAGE_TEXT, page_text_row(values))
        return True
    stored = PAGES.decode(row)
    current = stored["entry_points"]
    values = {**key, "last_ms": now_ms, "entry_points": entry_points or current}
    run(conn, _UPDATE_PAGE, PAGES.encode(values))
    if entry_points and entry_points != current:
        run(conn, _UPDATE_PAGE_TEXT, page_text_row({**values, "first_ms": stored["first_ms"]}))
    return False


def page_text_row(page: dict[str, Any]) -> dict[str, Any]:
    """The ``page_avro_texts`` row of a page (a ``visit_pages`` row, entry points decoded): its
    item of the Data Access WebSession line."""
    first = page["first_ms"]
    return visit_item(page, first, first_ms=first, page_id=page["page_id"], avro=page_item(page))


def pages(conn: Connection, account_id: str, visitor_id: str, session_id: str) -> list[Page]:
    found = rows(conn, _PAGES, _key(account_id, visitor_id, session_id))
    out = []
    for row in found:
        values = PAGES.decode(row)
        out.append(
            Page(
                page_id=values["page_id"],
                first_ms=values["first_ms"],
                last_ms=values["last_ms"],
                entry_points=values["entry_points"],
            )
        )
    return out


def next_context_id(conn: Connection, account_id: str, visitor_id: str, session_id: str) -> str:
    """Engagement context ids count up within a visit ("1", "2" ...), as LivePerson's do."""
    return str(one(conn, _NEXT_CONTEXT, _key(account_id, visitor_id, session_id))[0])


def add_offer(
    conn: Connection, account_id: str, visitor_id: str, session_id: str, offer: Offer
) -> None:
    values = {**_key(account_id, visitor_id, session_id), **msgspec.structs.asdict(offer)}
    run(conn, _ADD_OFFER, OFFERS.encode(values))


def offers(conn: Connection, account_id: str, visitor_id: str, session_id: str) -> list[Offer]:
    out = []
    for row in rows(conn, _OFFERS, _key(account_id, visitor_id, session_id)):
        values = OFFERS.decode(row)
        for k in ("account_id", "visitor_id", "session_id"):
            values.pop(k)
        out.append(Offer(**values))
    return out
