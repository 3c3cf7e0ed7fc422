"""Custom widgets of the agent workspace: per account, which web pages the workspace opens in
iframes next to a conversation, and for which skills (docs/widgets.md).

The configuration is one document per revision, like the catalog: a change stores the whole
list again, and ``expected`` (the admin API's ``If-Match``) makes it conditional. A widget with
no skills is shown for every conversation; one with skills only for conversations of those.

Errors::

    BadRequest  a field is missing or invalid, two widgets share an id, or a skill id is not in
                the account's catalog (each error names its JSON path)
    Conflict    ``expected`` is not the current revision
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy.engine import Connection

from sdehub.clock import Clock
from sdehub.errors import BadRequest, NotFound, expect_revision
from sdehub.model.validation import FieldError, nul_errors, validate
from sdehub.store import Database
from sdehub.store import catalogs as catalog_store
from sdehub.store import widgets as store
from sdehub.store.widgets import WidgetRevision

WIDGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_NAME = 128
MAX_URL = 2048
# LivePerson's workspace takes at most 5 custom widgets (spec/consume.md §1.1); ours allows
# more, but a bound keeps one account from filling an agent's screen with iframes.
MAX_WIDGETS = 20


class Widget(msgspec.Struct, kw_only=True):
    id: str
    name: str
    url: str
    skillIds: list[str] = msgspec.field(default_factory=list)


class WidgetInput(msgspec.Struct, kw_only=True):
    """A widget as a client sends it: skill ids may be numbers, as in the catalog."""

    id: str
    name: str
    url: str
    skillIds: list[str | int] = msgspec.field(default_factory=list)


class WidgetsInput(msgspec.Struct, kw_only=True):
    widgets: list[WidgetInput]


class WidgetConfig(msgspec.Struct, kw_only=True):
    revision: int
    widgets: list[Widget]
    createdTime: int | None = None
    author: str | None = None


def _url_error(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "expected an absolute http:// or https:// URL"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL must not carry credentials"
    if len(url) > MAX_URL:
        return f"at most {MAX_URL} characters"
    return None


def validated(document: Any) -> list[Widget]:
    """The widgets of a configuration document (skills are checked against the catalog at
    write time, in :func:`put_widgets`)."""
    parsed, errors = validate(document, WidgetsInput)
    errors = [*errors, *nul_errors(document)]
    if parsed is None or errors:
        raise BadRequest.from_errors(errors or [FieldError("$", "invalid")])
    seen: set[str] = set()
    widgets: list[Widget] = []
    if len(parsed.widgets) > MAX_WIDGETS:
        errors.append(FieldError("$.widgets", f"at most {MAX_WIDGETS} widgets"))
    for i, w in enumerate(parsed.widgets):
        at = f"$.widgets[{i}]"
        if not WIDGET_ID.match(w.id):
            errors.append(FieldError(f"{at}.id", "letters, digits, '-' and '_', 1 to 64"))
        elif w.id in seen:
            errors.append(FieldError(f"{at}.id", f"another widget has the id {w.id!r}"))
        seen.add(w.id)
        if not w.name.strip() or len(w.name) > MAX_NAME:
            errors.append(FieldError(f"{at}.name", f"1 to {MAX_NAME} characters"))
        if (problem := _url_error(w.url)) is not None:
            errors.append(FieldError(f"{at}.url", problem))
        skills = [str(s) for s in w.skillIds]
        for j, s in enumerate(skills):
            if s in skills[:j]:
                errors.append(FieldError(f"{at}.skillIds[{j}]", f"skill {s!r} is listed twice"))
        widgets.append(Widget(id=w.id, name=w.name, url=w.url, skillIds=skills))
    if errors:
        raise BadRequest.from_errors(errors)
    return widgets


def _answer(found: WidgetRevision | None) -> WidgetConfig:
    if found is None:
        return WidgetConfig(revision=0, widgets=[])
    widgets = msgspec.convert(found.document.get("widgets", []), list[Widget])
    return WidgetConfig(
        revision=found.revision, widgets=widgets, createdTime=found.created_ms,
        author=found.author,
    )  # fmt: skip


def shown_for(widgets: Sequence[Widget], skill_id: str | None) -> list[Widget]:
    """The widgets an agent sees for a conversation of ``skill_id`` (None: no conversation, or
    one without a skill: only the widgets for every skill)."""
    return [w for w in widgets if not w.skillIds or skill_id in w.skillIds]


class Widgets:
    """Each account's widget configuration, read and changed by the admin API and the CLI."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def config(self, account_id: str) -> WidgetConfig:
        return _answer(await self._db.read(lambda c: store.latest(c, account_id)))

    async def revision(self, account_id: str, number: int) -> WidgetConfig:
        found = await self._db.read(lambda c: store.get_revision(c, account_id, number))
        if found is None:
            raise NotFound(f"the widgets of account {account_id} have no revision {number}")
        return _answer(found)

    async def history(self, account_id: str, *, before: int, limit: int) -> list[WidgetRevision]:
        return await self._db.read(
            lambda c: store.revisions(c, account_id, before=before, limit=limit)
        )

    async def for_skill(self, account_id: str, skill_id: str | None) -> list[Widget]:
        return shown_for((await self.config(account_id)).widgets, skill_id)

    async def replace(
        self,
        account_id: str,
        document: Any,
        *,
        expected: int | None = None,
        author: str | None = None,
    ) -> int:
        """Validate and store the whole list; returns the new revision."""
        widgets = validated(document)
        revision: int = await self._db.write(
            put_widgets, account_id, widgets, expected, self._clock.now_ms(), author
        )
        return revision

    async def add(self, account_id: str, widget: Widget, *, author: str | None = None) -> int:
        """Add a widget, or replace the one with its id, keeping the others."""
        current = await self.config(account_id)
        kept = [w for w in current.widgets if w.id != widget.id]
        document = {"widgets": msgspec.to_builtins([*kept, widget])}
        return await self.replace(account_id, document, expected=current.revision, author=author)


# --- inside the write transaction ------------------------------------------------------------


def put_widgets(
    conn: Connection,
    account_id: str,
    widgets: list[Widget],
    expected: int | None,
    now_ms: int,
    author: str | None,
) -> int:
    """Store ``widgets`` as the next revision; returns its number."""
    catalog = catalog_store.latest(conn, account_id)
    known = {str(s["id"]) for s in (catalog.document.get("skills", []) if catalog else [])}
    errors = [
        FieldError(f"$.widgets[{i}].skillIds[{j}]", f"no skill {s!r} in the account's catalog")
        for i, w in enumerate(widgets)
        for j, s in enumerate(w.skillIds)
        if s not in known
    ]
    if errors:
        raise BadRequest.from_errors(errors)
    found = store.latest(conn, account_id)
    number = found.revision if found is not None else 0
    expect_revision("the widgets are", number, expected)
    store.add_revision(
        conn,
        WidgetRevision(
            account_id=account_id,
            revision=number + 1,
            document={"widgets": msgspec.to_builtins(widgets)},
            created_ms=now_ms,
            author=author,
        ),
    )
    return number + 1
