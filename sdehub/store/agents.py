"""Agents at work: their skills, the routing queue, who holds a conversation, transfers.

A conversation waits in the queue while it is open and no agent holds it: no participant with
role ``ASSIGNED_AGENT`` that has not left. Its queue is its ``skill_id``; ``NULL`` is the
"unassigned" queue every agent sees.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.conversations import Conversation
from sdehub.store.tables import agent_skills, conversations, participants, transfers

ASSIGNED_AGENT = "ASSIGNED_AGENT"


class Transfer(msgspec.Struct, kw_only=True):
    account_id: str
    conversation_id: str
    number: int
    from_agent_id: str
    from_skill_id: str | None
    to_skill_id: str | None
    reason: str | None
    transferred_ms: int


def _conversations(conn: Connection, query: sa.Select[tuple[object, ...]]) -> list[Conversation]:
    return [Conversation(**r._mapping) for r in conn.execute(query)]


_c, _p = conversations.c, participants.c


def _held(conversation: sa.ColumnElement[str]) -> sa.Exists:
    return (
        sa.select(sa.literal(1))
        .where(
            _p.account_id == _c.account_id,
            _p.conversation_id == conversation,
            _p.role == ASSIGNED_AGENT,
            _p.left_ms.is_(None),
        )
        .exists()
    )


# --- skills ----------------------------------------------------------------------------------


def skills_of(conn: Connection, account_id: str, user_id: str) -> list[str]:
    q = (
        sa.select(agent_skills.c.skill_id)
        .where(agent_skills.c.account_id == account_id, agent_skills.c.user_id == user_id)
        .order_by(agent_skills.c.skill_id)
    )
    return [str(r[0]) for r in conn.execute(q)]


def set_skills(conn: Connection, account_id: str, user_id: str, skill_ids: Sequence[str]) -> None:
    """Replace the agent's skills."""
    conn.execute(
        sa.delete(agent_skills).where(
            agent_skills.c.account_id == account_id, agent_skills.c.user_id == user_id
        )
    )
    if skill_ids:
        rows = [{"account_id": account_id, "user_id": user_id, "skill_id": s} for s in skill_ids]
        conn.execute(sa.insert(agent_skills), rows)


# --- the queue and who holds what ------------------------------------------------------------


def waiting(
    conn: Connection, account_id: str, skill_ids: Sequence[str], *, limit: int = 100
) -> list[Conversation]:
    """Open conversations no agent holds, in the queues of these skills or unassigned; oldest
    first (the order they are served in)."""
    q = (
        sa.select(conversations)
        .where(
            _c.account_id == account_id,
            _c.state == "OPEN",
            sa.or_(_c.skill_id.is_(None), _c.skill_id.in_(list(skill_ids))),
            ~_held(_c.conversation_id),
        )
        .order_by(_c.created_ms, _c.conversation_id)
        .limit(limit)
    )
    return _conversations(conn, q)


def held_by(conn: Connection, account_id: str, user_id: str) -> list[Conversation]:
    """The open conversations the agent holds."""
    q = (
        sa.select(conversations)
        .join(
            participants,
            sa.and_(
                _p.account_id == _c.account_id,
                _p.conversation_id == _c.conversation_id,
            ),
        )
        .where(
            _c.account_id == account_id,
            _c.state == "OPEN",
            _p.participant_id == user_id,
            _p.role == ASSIGNED_AGENT,
            _p.left_ms.is_(None),
        )
        .order_by(_c.created_ms, _c.conversation_id)
    )
    return _conversations(conn, q)


def holder_of(conn: Connection, account_id: str, conversation_id: str) -> str | None:
    """The agent holding the conversation, if any."""
    q = sa.select(_p.participant_id).where(
        _p.account_id == account_id,
        _p.conversation_id == conversation_id,
        _p.role == ASSIGNED_AGENT,
        _p.left_ms.is_(None),
    )
    row = conn.execute(q).first()
    return None if row is None else str(row[0])


def lock_conversation(conn: Connection, account_id: str, conversation_id: str) -> None:
    """Serialise the actions on one conversation: a no-op update takes its row lock on
    PostgreSQL (SQLite's single writer serialises every write already), so two agents accepting
    at once cannot both see it free."""
    conn.execute(
        sa.update(conversations)
        .where(_c.account_id == account_id, _c.conversation_id == conversation_id)
        .values(state=_c.state)
    )


def assign(
    conn: Connection, account_id: str, conversation_id: str, user_id: str, joined_ms: int
) -> None:
    """Make the agent the conversation's assigned agent (again, after a transfer back)."""
    where = (
        _p.account_id == account_id,
        _p.conversation_id == conversation_id,
        _p.participant_id == user_id,
        _p.role == ASSIGNED_AGENT,
    )
    done = conn.execute(
        sa.update(participants).where(*where).values(joined_ms=joined_ms, left_ms=None)
    )
    if done.rowcount == 0:
        conn.execute(
            sa.insert(participants).values(
                account_id=account_id,
                conversation_id=conversation_id,
                participant_id=user_id,
                role=ASSIGNED_AGENT,
                joined_ms=joined_ms,
            )
        )


def leave(
    conn: Connection, account_id: str, conversation_id: str, user_id: str, left_ms: int
) -> None:
    conn.execute(
        sa.update(participants)
        .where(
            _p.account_id == account_id,
            _p.conversation_id == conversation_id,
            _p.participant_id == user_id,
            _p.role == ASSIGNED_AGENT,
            _p.left_ms.is_(None),
        )
        .values(left_ms=left_ms)
    )


# --- transfers -------------------------------------------------------------------------------


def add_transfer(conn: Connection, transfer: Transfer) -> None:
    conn.execute(sa.insert(transfers).values(**msgspec.structs.asdict(transfer)))


def transfers_of(conn: Connection, account_id: str, conversation_id: str) -> list[Transfer]:
    q = (
        sa.select(transfers)
        .where(
            transfers.c.account_id == account_id,
            transfers.c.conversation_id == conversation_id,
        )
        .order_by(transfers.c.number)
    )
    return [Transfer(**r._mapping) for r in conn.execute(q)]
