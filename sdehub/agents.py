"""Agents at work: their skills, the routing queue, and what an agent does to a conversation.

A new conversation waits in the queue of its skill (no skill: the "unassigned" queue every agent
sees). An agent *accepts* a waiting conversation and becomes its participant with role
``ASSIGNED_AGENT`` (the agent survey and the public model know the assigned agent by that
role); it may then *send* lines, *transfer* it to another skill (it leaves, and the conversation
waits in the new skill's queue) or *close* it (close reason ``AGENT``).

Errors::

    NotFound   the agent, the conversation or a skill is unknown
    Conflict   the conversation is taken or closed (409)
    Forbidden  the agent does not hold the conversation (403)
    BadRequest a skill id that is not in the account's catalog
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy.engine import Connection

from sdehub.channels import Changes
from sdehub.clock import Clock
from sdehub.errors import BadRequest, Conflict, Forbidden, NotFound
from sdehub.model.validation import FieldError
from sdehub.store import Database
from sdehub.store import accounts as account_store
from sdehub.store import agents as store
from sdehub.store import catalogs as catalog_store
from sdehub.store import conversations as conv_store
from sdehub.store.agents import ASSIGNED_AGENT, Transfer
from sdehub.store.conversations import Conversation, Message


class Desk(msgspec.Struct, kw_only=True):
    """What an agent sees: the conversations waiting in its queues, and those it holds."""

    skills: list[str]
    waiting: list[Conversation]
    mine: list[Conversation]


class Agents:
    def __init__(self, db: Database, clock: Clock, changes: Changes | None = None) -> None:
        self._db = db
        self._clock = clock
        self._changes = changes

    async def skills(self, account_id: str, user_id: str) -> list[str]:
        def read(conn: Connection) -> list[str]:
            _agent(conn, account_id, user_id)
            return store.skills_of(conn, account_id, user_id)

        return await self._db.read(read)

    async def set_skills(self, account_id: str, user_id: str, skill_ids: Sequence[str]) -> None:
        await self._db.write(set_skills, account_id, user_id, list(skill_ids))

    async def desk(self, account_id: str, user_id: str) -> Desk:
        def read(conn: Connection) -> Desk:
            skills = store.skills_of(conn, account_id, user_id)
            return Desk(
                skills=skills,
                waiting=store.waiting(conn, account_id, skills),
                mine=store.held_by(conn, account_id, user_id),
            )

        return await self._db.read(read)

    async def accept(self, account_id: str, conversation_id: str, user_id: str) -> None:
        await self._db.write(accept, account_id, conversation_id, user_id, self._clock.now_ms())
        await self._changed(account_id, conversation_id)

    async def send(self, account_id: str, conversation_id: str, user_id: str, text: str) -> int:
        now = self._clock.now_ms()
        sequence: int = await self._db.write(
            send_line, account_id, conversation_id, user_id, text, now
        )
        await self._changed(account_id, conversation_id)
        return sequence

    async def transfer(
        self,
        account_id: str,
        conversation_id: str,
        user_id: str,
        skill_id: str | None,
        reason: str | None,
    ) -> Transfer:
        now = self._clock.now_ms()
        done: Transfer = await self._db.write(
            transfer, account_id, conversation_id, user_id, skill_id, reason, now
        )
        await self._changed(account_id, conversation_id)
        return done

    async def close(self, account_id: str, conversation_id: str, user_id: str) -> None:
        await self._db.write(close, account_id, conversation_id, user_id, self._clock.now_ms())
        await self._changed(account_id, conversation_id)

    async def _changed(self, account_id: str, conversation_id: str) -> None:
        if self._changes is not None:
            await self._changes.conversation(account_id, conversation_id)


# --- inside the write transaction ------------------------------------------------------------


def _agent(conn: Connection, account_id: str, user_id: str) -> None:
    if account_store.get_user(conn, account_id, user_id) is None:
        raise NotFound(f"no agent {user_id!r} in account {account_id}")


def _check_skills(
    conn: Connection, account_id: str, skill_ids: Sequence[str | None], where: str
) -> None:
    """``where``: the JSON path of the ids in the request, with ``{}`` for the index."""
    latest = catalog_store.latest(conn, account_id)
    known = {str(s["id"]) for s in (latest.document.get("skills", []) if latest else [])}
    errors = [
        FieldError(where.format(i), f"no skill {s!r} in the account's catalog")
        for i, s in enumerate(skill_ids)
        if s is not None and s not in known
    ]
    if errors:
        raise BadRequest.from_errors(errors)


def set_skills(conn: Connection, account_id: str, user_id: str, skill_ids: list[str]) -> None:
    _agent(conn, account_id, user_id)
    _check_skills(conn, account_id, skill_ids, "$.skillIds[{}]")
    store.set_skills(conn, account_id, user_id, sorted(set(skill_ids)))


def _open(conn: Connection, account_id: str, conversation_id: str) -> Conversation:
    store.lock_conversation(conn, account_id, conversation_id)
    conversation = conv_store.get_conversation(conn, account_id, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r} in account {account_id}")
    if conversation.state != "OPEN":
        raise Conflict(f"conversation {conversation_id} is closed")
    return conversation


def _held(conn: Connection, account_id: str, conversation_id: str, user_id: str) -> Conversation:
    conversation = _open(conn, account_id, conversation_id)
    if store.holder_of(conn, account_id, conversation_id) != user_id:
        raise Forbidden(f"agent {user_id} does not hold conversation {conversation_id}")
    return conversation


def accept(conn: Connection, account_id: str, conversation_id: str, user_id: str, now: int) -> None:
    _open(conn, account_id, conversation_id)
    holder = store.holder_of(conn, account_id, conversation_id)
    if holder is not None:
        raise Conflict(f"conversation {conversation_id} is taken by agent {holder}")
    store.assign(conn, account_id, conversation_id, user_id, now)


def send_line(
    conn: Connection, account_id: str, conversation_id: str, user_id: str, text: str, now: int
) -> int:
    _held(conn, account_id, conversation_id, user_id)
    sequence = conv_store.next_sequence(conn, account_id, conversation_id)
    conv_store.add_message(
        conn,
        Message(
            account_id=account_id,
            conversation_id=conversation_id,
            sequence=sequence,
            dialog_id=conversation_id,
            participant_id=user_id,
            role=ASSIGNED_AGENT,
            event_type="ContentEvent",
            event={"type": "ContentEvent", "contentType": "text/plain", "message": text},
            server_ms=now,
        ),
    )
    return sequence


def transfer(
    conn: Connection,
    account_id: str,
    conversation_id: str,
    user_id: str,
    skill_id: str | None,
    reason: str | None,
    now: int,
) -> Transfer:
    conversation = _held(conn, account_id, conversation_id, user_id)
    _check_skills(conn, account_id, [skill_id], "$.skillId")
    done = Transfer(
        account_id=account_id,
        conversation_id=conversation_id,
        number=len(store.transfers_of(conn, account_id, conversation_id)),
        from_agent_id=user_id,
        from_skill_id=conversation.skill_id,
        to_skill_id=skill_id,
        reason=reason,
        transferred_ms=now,
    )
    store.add_transfer(conn, done)
    store.leave(conn, account_id, conversation_id, user_id, now)
    conv_store.update_conversation(conn, account_id, conversation_id, skill_id=skill_id)
    return done


def close(conn: Connection, account_id: str, conversation_id: str, user_id: str, now: int) -> None:
    _held(conn, account_id, conversation_id, user_id)
    conv_store.close(conn, account_id, conversation_id, now, "AGENT")
