"""Conversation outcomes (spec/consume.md §4.1, seed 003): agents report the Transaction, Lead
or Service Activity a conversation achieved.

Configuration: each change stores the whole configuration as the account's next revision (every
revision kept, like the catalog's); a change naming the revision it was made from (``If-Match``)
is refused (409) when another came first. Skills must be skills of the account's catalog.

Runtime, per conversation: the form is the configuration's entries for the conversation's current
skill (:func:`sdehub.model.outcomes.sections`). A submission is accepted while the conversation is
open and up to 30 minutes after it closed ("during the chat or up to 30 minutes after", seed 003),
only from the agent holding it (after a close: the agent who held it then). It is recorded as an
SDE of the conversation reported by that agent (:func:`sdehub.surveys.report_by_agent`, as the
agent survey's engagement-attribute answers are), so it shows in the public model and the
Messaging Interactions API and counts for goals like a consumer-reported SDE.

Errors::

    NotFound   the conversation is unknown
    Forbidden  I do not hold the conversation (and did not when it closed)
    Conflict   more than 30 minutes after the close; a stale If-Match
    BadRequest the configuration or the values, every problem with its path
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub.channels import Changes
from sdehub.clock import Clock
from sdehub.errors import BadRequest, Conflict, Forbidden, NotFound, expect_revision
from sdehub.model.outcomes import Outcome, OutcomesConfig, check, record_of, sections
from sdehub.model.outcomes import values_of as form_values
from sdehub.model.validation import FieldError, validate
from sdehub.store import Database
from sdehub.store import agents as agent_store
from sdehub.store import catalogs as catalog_store
from sdehub.store import conversations as conv_store
from sdehub.store import outcomes as store
from sdehub.store.conversations import Conversation
from sdehub.store.outcomes import ConfigRevision, Submission
from sdehub.surveys import report_by_agent
from sdehub.workspace import iso

WINDOW_MS = 30 * 60_000
"""How long after the close a conversation's outcomes may still be submitted."""


class Form(msgspec.Struct, kw_only=True):
    """What an agent sees of a conversation's outcomes."""

    conversation: Conversation
    sections: list[Outcome]
    submissions: list[Submission]
    deadline_ms: int | None
    """The last moment to submit (the close + 30 minutes); None while open."""
    open: bool
    """Whether submissions are accepted now."""


def config_of(revision: ConfigRevision | None) -> OutcomesConfig | None:
    return None if revision is None else msgspec.convert(revision.document, OutcomesConfig)


def known_skills(conn: Connection, account_id: str) -> set[str]:
    latest = catalog_store.latest(conn, account_id)
    return {str(s.get("id")) for s in (latest.document.get("skills", []) if latest else [])}


def put_config(
    conn: Connection,
    account_id: str,
    config: OutcomesConfig,
    expected: int | None,
    now_ms: int,
    author: str | None,
) -> ConfigRevision:
    """Check ``config`` against the catalog and store it as the next revision."""
    latest = store.latest_config(conn, account_id)
    number = latest.revision if latest is not None else 0
    expect_revision("the conversation outcomes are", number, expected)
    errors = check(config, known_skills(conn, account_id))
    if errors:
        raise BadRequest.from_errors(errors)
    stored = ConfigRevision(
        account_id=account_id,
        revision=number + 1,
        document=msgspec.to_builtins(config),
        created_ms=now_ms,
        author=author,
    )
    store.add_config(conn, stored)
    return stored


def deadline(conversation: Conversation) -> int | None:
    if conversation.state == "OPEN":
        return None
    return (conversation.closed_ms or conversation.created_ms) + WINDOW_MS


def read_form(conn: Connection, account_id: str, conversation_id: str, now_ms: int) -> Form:
    conversation = conv_store.get_conversation(conn, account_id, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r} in account {account_id}")
    last = deadline(conversation)
    return Form(
        conversation=conversation,
        sections=sections(config_of(store.latest_config(conn, account_id)), conversation.skill_id),
        submissions=store.submissions_of(conn, account_id, conversation_id),
        deadline_ms=last,
        open=last is None or now_ms <= last,
    )


def submit(
    conn: Connection,
    account_id: str,
    conversation_id: str,
    agent_id: str,
    sde: str,
    values: dict[str, Any],
    now_ms: int,
    window_ms: int,
) -> tuple[Submission, Conversation]:
    """Check and record one submission, in one transaction."""
    # Serialise with the agent actions: a transfer or close cannot slip in between the checks.
    agent_store.lock_conversation(conn, account_id, conversation_id)
    form = read_form(conn, account_id, conversation_id, now_ms)
    holder = agent_store.holder_of(conn, account_id, conversation_id)
    if holder != agent_id:
        when = "holding it" if form.deadline_ms is None else "who held it when it closed"
        raise Forbidden(
            f"only the agent {when} may report the outcomes of conversation {conversation_id} "
            f"({'no agent' if holder is None else f'agent {holder}'})"
        )
    if not form.open:
        raise Conflict(
            f"conversation {conversation_id} closed more than 30 minutes ago: outcomes could be "
            f"reported until {iso(form.deadline_ms)}"
        )
    entry = next((e for e in form.sections if e.sde == sde), None)
    if entry is None:
        skill = form.conversation.skill_id or "unassigned"
        offered = ", ".join(e.sde for e in form.sections) or "nothing"
        raise BadRequest(
            f"agents of skill {skill} do not report {sde} (the form has {offered})",
            errors=[FieldError("$.sde", f"not in the form of skill {skill}: {offered}")],
        )
    record, errors = record_of(entry, values)
    if record is None:
        raise BadRequest.from_errors(errors)
    entries = report_by_agent(conn, form.conversation, [record], agent_id, now_ms, window_ms)
    submission = Submission(
        account_id=account_id,
        conversation_id=conversation_id,
        number=len(form.submissions),
        sde=sde,
        form_values=form_values(record),
        agent_id=agent_id,
        seq=entries[0].meta.seq,
        submitted_ms=now_ms,
    )
    store.add_submission(conn, submission)
    return submission, form.conversation


class Outcomes:
    """The operations of the configuration and runtime APIs, in the server's process."""

    def __init__(
        self, db: Database, clock: Clock, *, window_ms: int, changes: Changes | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._window_ms = window_ms
        self._changes = changes

    async def latest(self, account_id: str) -> ConfigRevision | None:
        return await self._db.read(lambda c: store.latest_config(c, account_id))

    async def revision(self, account_id: str, number: int) -> ConfigRevision:
        found = await self._db.read(lambda c: store.get_config(c, account_id, number))
        if found is None:
            raise NotFound(
                f"the conversation outcomes of account {account_id} have no revision {number}"
            )
        return found

    async def history(self, account_id: str, *, before: int, limit: int) -> list[ConfigRevision]:
        return await self._db.read(
            lambda c: store.config_revisions(c, account_id, before=before, limit=limit)
        )

    async def put(
        self, account_id: str, document: Any, *, expected: int | None, author: str | None
    ) -> ConfigRevision:
        config, errors = validate(document, OutcomesConfig)
        if config is None:
            raise BadRequest.from_errors(errors)
        return await self._db.write(
            put_config, account_id, config, expected, self._clock.now_ms(), author
        )

    async def form(self, account_id: str, conversation_id: str) -> Form:
        now = self._clock.now_ms()
        return await self._db.read(lambda c: read_form(c, account_id, conversation_id, now))

    async def submit(
        self, account_id: str, conversation_id: str, agent_id: str, sde: str, values: dict[str, Any]
    ) -> Submission:
        done: Submission
        conversation: Conversation
        done, conversation = await self._db.write(
            submit, account_id, conversation_id, agent_id, sde, values, self._clock.now_ms(),
            self._window_ms,
        )  # fmt: skip
        if self._changes is not None:
            await self._changes.conversation(account_id, conversation_id)
            vid, sid = conversation.visitor_id, conversation.session_id
            if vid and sid:  # the SDE belongs to the visit's other conversations too
                await self._changes.visit(account_id, vid, sid)
        return done
