"""Agent surveys for messaging: their configuration, which skill uses which, and the survey
state of each conversation."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub.store.sql import Sql, TableSql, one, rows, run, run_many
from sdehub.store.tables import agent_survey_skills, agent_survey_states, agent_surveys


class StoredSurvey(msgspec.Struct, kw_only=True):
    account_id: str
    survey_id: int
    revision: int
    name: str
    is_default: bool
    enabled: bool
    deleted: bool
    document: dict[str, Any]
    created_ms: int
    updated_ms: int


class SurveyState(msgspec.Struct, kw_only=True):
    account_id: str
    conversation_id: str
    survey_id: int
    status: str
    state_revision: int
    answers: list[dict[str, Any]]
    last_action_ms: int
    submitted: list[dict[str, Any]] | None = None
    submissions: int = 0
    performed_by: str | None = None


SURVEYS = TableSql(agent_surveys)
SKILLS = TableSql(agent_survey_skills)
STATES = TableSql(agent_survey_states)

_PUT = SURVEYS.upsert(("account_id", "survey_id"))
_GET = SURVEYS.select("account_id = :account_id AND survey_id = :survey_id")
_LIST = SURVEYS.select("account_id = :account_id AND deleted = :false", "ORDER BY survey_id")
_LIST_ALL = SURVEYS.select("account_id = :account_id", "ORDER BY survey_id")
_REVISION = Sql("SELECT MAX(revision) FROM agent_surveys WHERE account_id = :account_id")
_NEXT_ID = Sql("SELECT MAX(survey_id) FROM agent_surveys WHERE account_id = :account_id")
_DEFAULT = SURVEYS.select(
    "account_id = :account_id AND is_default = :true AND deleted = :false", "ORDER BY survey_id"
)
_FOR_SKILL = Sql(
    "SELECT survey_id FROM agent_survey_skills WHERE account_id = :account_id"
    " AND skill_id = :skill_id"
)
_SKILLS = SKILLS.select("account_id = :account_id", "ORDER BY skill_id")
_UNASSIGN = Sql(
    "DELETE FROM agent_survey_skills WHERE account_id = :account_id AND survey_id = :survey_id"
)
_ASSIGN = SKILLS.insert()
_GET_STATE = STATES.select("account_id = :account_id AND conversation_id = :conversation_id")
_PUT_STATE = STATES.upsert(("account_id", "conversation_id"))


def _survey(row: Any) -> StoredSurvey:
    return StoredSurvey(**SURVEYS.decode(row))


def collection_revision(conn: Connection, account_id: str) -> int:
    """The account's survey collection revision (``ac-revision``; 0: never configured)."""
    row = one(conn, _REVISION, {"account_id": account_id})
    return int(row[0] or 0) if row is not None else 0


def next_survey_id(conn: Connection, account_id: str) -> int:
    row = one(conn, _NEXT_ID, {"account_id": account_id})
    return int(row[0] or 0) + 1 if row is not None else 1


def get_survey(conn: Connection, account_id: str, survey_id: int) -> StoredSurvey | None:
    row = one(conn, _GET, {"account_id": account_id, "survey_id": survey_id})
    return None if row is None else _survey(row)


def list_surveys(
    conn: Connection, account_id: str, *, include_deleted: bool = False
) -> list[StoredSurvey]:
    sql = _LIST_ALL if include_deleted else _LIST
    params = {"account_id": account_id, "false": False}
    return [_survey(r) for r in rows(conn, sql, params)]


def default_survey(conn: Connection, account_id: str) -> StoredSurvey | None:
    row = one(conn, _DEFAULT, {"account_id": account_id, "true": True, "false": False})
    return None if row is None else _survey(row)


def survey_of_skill(conn: Connection, account_id: str, skill_id: str) -> int | None:
    row = one(conn, _FOR_SKILL, {"account_id": account_id, "skill_id": skill_id})
    return None if row is None else int(row[0])


def skill_assignments(conn: Connection, account_id: str) -> dict[str, int]:
    """Skill id -> the survey it is assigned to."""
    return {
        r["skill_id"]: int(r["survey_id"])
        for r in (SKILLS.decode(row) for row in rows(conn, _SKILLS, {"account_id": account_id}))
    }


def put_survey(conn: Connection, survey: StoredSurvey) -> None:
    run(conn, _PUT, SURVEYS.encode(msgspec.structs.asdict(survey)))


def assign_skills(conn: Connection, account_id: str, survey_id: int, skill_ids: list[str]) -> None:
    """Make ``skill_ids`` the skills of the survey (none: release them all)."""
    run(conn, _UNASSIGN, {"account_id": account_id, "survey_id": survey_id})
    run_many(
        conn,
        _ASSIGN,
        [{"account_id": account_id, "skill_id": s, "survey_id": survey_id} for s in skill_ids],
    )


def get_state(conn: Connection, account_id: str, conversation_id: str) -> SurveyState | None:
    row = one(conn, _GET_STATE, {"account_id": account_id, "conversation_id": conversation_id})
    return None if row is None else SurveyState(**STATES.decode(row))


def put_state(conn: Connection, state: SurveyState) -> None:
    run(conn, _PUT_STATE, STATES.encode(msgspec.structs.asdict(state)))
