"""Tenant isolation: every query filters by account.

Two accounts hold rows of every kind under the *same* ids (conversation ``conv-1``, consumer
``consumer-1``, user ``user-1``, ...), with contents naming their account. Every public store
function that takes an ``account_id`` is found by introspection and must be classified here, so a
new query cannot skip this suite. Reads of account A must return the same thing before and after
account B's rows and writes arrive, and nothing of B's; B's writes must not touch A's rows.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.ingest import HOUR_MS, record
from sdehub.model.provenance import Provenance
from sdehub.model.types import (
    CustomerInfo,
    CustomerInfoData,
    PersonalData,
    PersonalInfo,
    ServiceActivity,
    ServiceData,
    Transaction,
)
from sdehub.store import (
    Database,
    accounts,
    agents,
    apikeys,
    catalogs,
    conversations,
    engagementlines,
    events,
    exports,
    history,
    identities,
    keys,
    outcomes,
    quarantine,
    reports,
    surveys,
    tables,
    terms,
    transcripts,
    visits,
    widgets,
)
from sdehub.store.events import Origin

pytestmark = pytest.mark.anyio

MODULES = (
    events,
    conversations,
    accounts,
    keys,
    quarantine,
    visits,
    catalogs,
    history,
    apikeys,
    surveys,
    agents,
    exports,
    outcomes,
    reports,
    terms,
    widgets,
    identities,
    transcripts,
    engagementlines,
)
NOW = 1_700_000_000_000

# Every public function of the store modules, by how it is scoped.
READS = {
    "events.for_conversation",
    "events.for_visit",
    "conversations.open_conversation_of_visit",
    "conversations.conversations_of_visit",
    "catalogs.latest",
    "catalogs.latest_number",
    "catalogs.get_revision",
    "catalogs.revisions",
    "catalogs.goals_of_visit",
    "catalogs.goal_events_between",
    "visits.visitor_exists",
    "visits.get_visit",
    "visits.pages",
    "visits.offers",
    "events.seqs_in_window",
    "events.recent",
    "events.state",
    "conversations.get_consumer",
    "identities.find_consumer",
    "conversations.get_conversation",
    "conversations.open_conversation_of",
    "conversations.attributable",
    "conversations.list_conversations",
    "conversations.dialogs_of",
    "conversations.participants_of",
    "conversations.messages_of",
    "accounts.get_account",
    "accounts.get_app",
    "accounts.list_apps",
    "accounts.get_user_by_login",
    "accounts.get_user",
    "accounts.list_users",
    "accounts.next_user_id",
    "accounts.get_session",
    "keys.signing_keys_of",
    "keys.brand_keys_of",
    "quarantine.list_for",
    "quarantine.count_for",
    "history.search",
    "history.page",
    "history.count",
    "history.conversations_of_consumer",
    "apikeys.get_api_key",
    "apikeys.list_api_keys",
    "surveys.collection_revision",
    "surveys.next_survey_id",
    "surveys.get_survey",
    "surveys.list_surveys",
    "surveys.default_survey",
    "surveys.survey_of_skill",
    "surveys.skill_assignments",
    "surveys.get_state",
    "agents.skills_of",
    "agents.waiting",
    "agents.held_by",
    "agents.holder_of",
    "agents.transfers_of",
    "exports.sdes_between",
    "exports.goals_between",
    "exports.web_sde_texts",
    "exports.web_page_texts",
    "exports.web_goal_texts",
    "exports.pages_between",
    "exports.conversations_closed_between",
    "exports.engagement_rows",
    "exports.engagement_rows_of",
    "exports.closed_between",
    "engagementlines.between",
    "exports.surveys_submitted_between",
    "exports.agent_sessions_between",
    "exports.exported_hours",
    "outcomes.latest_config",
    "outcomes.get_config",
    "outcomes.config_revisions",
    "outcomes.submissions_of",
    "reports.goal_tracker",
    "reports.sde_activity",
    "widgets.latest",
    "widgets.get_revision",
    "widgets.revisions",
}
WRITES = {
    "events.append",
    "events.attribute",
    "events.update_state",
    "conversations.update_conversation",
    "conversations.next_sequence",
    "conversations.take_sequence",
    "conversations.set_chat_state",
    "conversations.close_dialogs",
    "conversations.close",
    "engagementlines.keep",
    "identities.consumer_of",
    "accounts.extend_session",
    "accounts.revoke_session",
    "accounts.set_allowed_origins",
    "keys.delete_brand_keys",
    "visits.touch_visit",
    "visits.put_page",
    "visits.next_context_id",
    "visits.add_offer",
    "history.index_terms",
    "terms.drain_terms",
    "surveys.assign_skills",
    "agents.set_skills",
    "agents.lock_conversation",
    "agents.assign",
    "agents.leave",
    "exports.mark_exported",
    "exports.forget_exported",
    "exports.cluster_sde_texts",
}
# These take a record that carries its own account_id.
RECORD_WRITES = {
    "conversations.put_consumer",
    "conversations.first_profile",
    "conversations.add_conversation",
    "conversations.add_dialog",
    "conversations.add_participant",
    "conversations.add_message",
    # A message's transcript item (conversations.add_message calls it), in the message's account.
    "transcripts.add_item",
    "accounts.add_account",
    "accounts.put_app",
    "accounts.add_app_if_absent",
    "accounts.put_user",
    "accounts.add_session",
    "keys.add_signing_key",
    "keys.put_brand_key",
    "keys.put_brand_keys",
    "quarantine.add",
    "visits.start_visit",
    "catalogs.add_revision",
    "catalogs.add_goal_event",
    "apikeys.put_api_key",
    "apikeys.add_api_key_if_absent",
    "surveys.put_survey",
    "surveys.put_state",
    "agents.add_transfer",
    "outcomes.add_config",
    "outcomes.add_submission",
    "widgets.add_revision",
}
# Row builders (no query): the WebSession items the store keeps, from rows it is writing; and
# the writer's maintenance over every account.
UNSCOPED = {
    "accounts.list_accounts",
    "events.session_scope",
    "events.avro_text_row",
    "visits.page_text_row",
    "catalogs.goal_text_row",
    "exports.visit_item",
    # Consumer ids from an identity's hash and a time: no query.
    "identities.identity_key",
    "identities.new_consumer_id",
    # The writer's idle work: the search tail of every account, moved by account-blind SQL that
    # copies each row's own account_id (terms.drain_terms, classified above, is that move; its
    # account-scoped form is what the write test checks).
    "terms.drain_step",
}

VISIT = ("visitor-1", "session-1")
ARGS: dict[str, Any] = {
    "conversation_id": "conv-1",
    "consumer_id": "consumer-1",
    "client_id": "app-1",
    "user_id": "user-1",
    "login_name": "login-1",
    "session_id": "session-1",  # the login session and the visit's session share the id
    "visitor_id": "visitor-1",
    "since_ms": 0,
    "until_ms": NOW * 10,
    "closed_since_ms": 0,
    "base": 1000,
    "revision": 1,
    "criteria": history.Criteria(start_from=0, start_to=NOW * 10),
    "offset": 0,
    "limit": 100,
    "states": ["OPEN", "CLOSE"],
    "consumer_key": "key-1",
    "survey_id": 1,
    "skill_id": "skill-1",
    "skill_ids": ["skill-1"],
    "hours": [0, 3_600_000],
    "done_ms": NOW,
    "before_ms": 3_600_000,
    "hour_ms": NOW - NOW % HOUR_MS,
    "namespace": "ext",
    "external_id": "ext-1",
    "now_ms": NOW,
}
SCOPES = [("session", events.session_scope(*VISIT)), ("consumer", "consumer-1")]


def public_functions() -> dict[str, Callable[..., Any]]:
    found = {}
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[1]
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__:
                found[f"{short}.{name}"] = fn
    return found


def scoped(names: set[str]) -> dict[str, Callable[..., Any]]:
    return {k: v for k, v in public_functions().items() if k in names}


def calls(name: str, fn: Callable[..., Any], account: str) -> list[dict[str, Any]]:
    """Keyword arguments for every way this read is called for ``account``."""
    params = list(inspect.signature(fn).parameters.values())[1:]  # after conn
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.name == "account_id":
            kwargs[p.name] = account
        elif p.name in ("kind", "scope_id"):
            continue
        elif p.name in ARGS:
            kwargs[p.name] = ARGS[p.name]
        elif p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD:
            raise AssertionError(f"{name}: give parameter {p.name!r} a value in ARGS")
    variants = [kwargs]
    names = {p.name for p in params}
    if {"kind", "scope_id"} <= names:
        variants = [{**kwargs, "kind": k, "scope_id": s} for k, s in SCOPES]
    if {"consumer_id", "visitor_id", "session_id"} <= names:  # by consumer, by visit, by both
        variants = [
            {**kwargs, "visitor_id": None, "session_id": None},
            {**kwargs, "consumer_id": None},
            kwargs,
        ]
    return variants


# --- the two accounts' rows ----------------------------------------------------------------


class Tenant(msgspec.Struct):
    account_id: str
    seqs: set[int] = msgspec.field(default_factory=set)


def populate(conn: Connection, tenant: Tenant, extra: int) -> None:
    """Rows of every kind, under the shared ids; ``extra`` more of the listable ones."""
    a = tenant.account_id
    accounts.add_account(
        conn,
        accounts.Account(
            account_id=a, name=f"name {a}", emulated=False, created_ms=NOW,
            allowed_origins=[f"https://{a}.example"],
        ),
    )  # fmt: skip
    for i in range(1 + extra):
        accounts.put_app(
            conn,
            accounts.App(
                account_id=a, client_id=f"app-{i + 1}", secret_hash=f"secret {a}",
                name=f"app of {a}", rate_limit=None, emulated=False, created_ms=NOW,
            ),
        )  # fmt: skip
        accounts.put_user(
            conn,
            accounts.User(
                account_id=a, user_id=f"user-{i + 1}", login_name=f"login-{i + 1}",
                password_hash=f"hash {a}", nickname=None, full_name=f"agent of {a}", email=None,
                emulated=False, created_ms=NOW,
            ),
        )  # fmt: skip
        keys.add_signing_key(
            conn,
            keys.SigningKey(account_id=a, kid=f"kid-{i + 1}", private_pem=f"pem {a}", created_ms=i),
        )
        keys.put_brand_key(
            conn,
            keys.BrandKey(
                account_id=a, kid=f"kid-{i + 1}", issuer=f"iss {a}", jwk={"owner": a},
                created_ms=i,
            ),
        )  # fmt: skip
        quarantine.add(
            conn,
            quarantine.Quarantined(
                account_id=a, received_ms=NOW, api="connector", status=400,
                body=f"body of {a}".encode(), errors=[{"path": "$", "message": a}], actor=a,
            ),
        )  # fmt: skip
    apikeys.put_api_key(
        conn,
        apikeys.ApiKey(
            account_id=a, consumer_key="key-1", consumer_secret=f"secret {a}", token=f"token {a}",
            token_secret=f"token secret {a}", emulated=False, created_ms=NOW,
        ),
    )  # fmt: skip
    accounts.add_session(
        conn,
        accounts.Session(
            account_id=a, session_id="session-1", user_id="user-1", csrf=f"csrf {a}",
            created_ms=NOW, expires_ms=NOW + HOUR_MS, revoked=False,
        ),
    )  # fmt: skip
    conversations.put_consumer(
        conn,
        conversations.Consumer(
            account_id=a, consumer_id="consumer-1", ext_consumer_id=f"ext {a}", acr="0",
            claims={"owner": a}, profile={"owner": a}, created_ms=NOW, updated_ms=NOW,
        ),
        update=(),
    )  # fmt: skip
    identities.consumer_of(conn, a, "ext", "ext-1", NOW)
    ids = ["conv-1"] + [f"conv-only-{a}-{i}" for i in range(extra)]
    for i, conversation_id in enumerate(ids):
        conversations.add_conversation(
            conn,
            conversations.Conversation(
                account_id=a, conversation_id=conversation_id, consumer_id="consumer-1",
                state="OPEN" if i == 0 else "CLOSE", created_ms=NOW + i,
                closed_ms=None if i == 0 else NOW + i, visitor_id=VISIT[0],
                session_id=VISIT[1], context={"owner": a}, app_id="app-1",
            ),
        )  # fmt: skip
        conversations.add_dialog(
            conn,
            conversations.Dialog(
                account_id=a, dialog_id=f"dialog-{i + 1}", conversation_id="conv-1",
                dialog_type="MAIN", state="OPEN", created_ms=NOW + i,
            ),
        )  # fmt: skip
        conversations.add_participant(
            conn,
            conversations.Participant(
                account_id=a, conversation_id="conv-1", participant_id=f"p-{i}",
                role="CONSUMER", joined_ms=NOW + i,
            ),
        )  # fmt: skip
        conversations.add_message(
            conn,
            conversations.Message(
                account_id=a, conversation_id="conv-1", sequence=i, dialog_id="conv-1",
                participant_id="consumer-1", role="CONSUMER", event_type="ContentEvent",
                event={"message": f"from {a}"}, server_ms=NOW + i,
            ),
        )  # fmt: skip
    # One closed the way the services close them (its Engagement line kept), under a shared id.
    conversations.add_conversation(
        conn,
        conversations.Conversation(
            account_id=a, conversation_id="conv-closed", consumer_id="consumer-1", state="OPEN",
            created_ms=NOW, visitor_id=VISIT[0], session_id=VISIT[1],
        ),
    )  # fmt: skip
    conversations.add_message(
        conn,
        conversations.Message(
            account_id=a, conversation_id="conv-closed", sequence=0, dialog_id="conv-closed",
            participant_id="consumer-1", role="CONSUMER", event_type="ContentEvent",
            event={"message": f"from {a}"}, server_ms=NOW,
        ),
    )  # fmt: skip
    conversations.close(conn, a, "conv-closed", NOW + 1, "CONSUMER")
    visits.start_visit(
        conn,
        visits.Visit(
            account_id=a, visitor_id=VISIT[0], session_id=VISIT[1], app_id="app-1",
            created_ms=NOW, last_ms=NOW, expires_ms=NOW + HOUR_MS, returning_visitor=False,
            consumer_id=f"consumer of {a}", identities=[{"owner": a}], ip_address=a[:64],
        ),
    )  # fmt: skip
    visits.put_page(conn, a, *VISIT, "page-1", [f"sec://{a}"], NOW)
    visits.add_offer(conn, a, *VISIT, offer(a, "1"))
    for revision in range(1, 2 + extra):
        catalogs.add_revision(
            conn,
            catalogs.Revision(
                account_id=a, revision=revision, document={"owner": a}, created_ms=NOW,
                author=a[:64], note=a,
            ),
        )  # fmt: skip
        widgets.add_revision(
            conn,
            widgets.WidgetRevision(
                account_id=a, revision=revision, document={"owner": a}, created_ms=NOW,
                author=a[:64],
            ),
        )  # fmt: skip
        catalogs.add_goal_event(
            conn,
            catalogs.GoalEvent(
                account_id=a, visitor_id=VISIT[0], session_id=VISIT[1], goal_id="goal-1",
                goal_type="purchase", dedup_key=a, duplicate=False, source="monitoring",
                reached_ms=NOW + revision, campaign_id="campaign-1", details={"owner": a},
            ),
        )  # fmt: skip
    for survey_id in range(1, 2 + extra):
        surveys.put_survey(
            conn,
            surveys.StoredSurvey(
                account_id=a, survey_id=survey_id, revision=survey_id, name=f"survey of {a}",
                is_default=True, enabled=True, deleted=False, document={"owner": a},
                created_ms=NOW, updated_ms=NOW,
            ),
        )  # fmt: skip
        surveys.assign_skills(conn, a, survey_id, [f"skill-{survey_id}"])
    surveys.put_state(
        conn,
        surveys.SurveyState(
            account_id=a, conversation_id="conv-1", survey_id=1, status="open",
            state_revision=1, answers=[{"owner": a}], last_action_ms=NOW, performed_by=a[:64],
        ),
    )  # fmt: skip
    agents.set_skills(conn, a, "user-1", ["skill-1"])
    agents.assign(conn, a, "conv-1", "user-1", NOW)
    conversations.add_conversation(
        conn,
        conversations.Conversation(
            account_id=a, conversation_id="conv-queue", consumer_id="consumer-q", state="OPEN",
            created_ms=NOW, skill_id="skill-1", context={"owner": a},
        ),
    )  # fmt: skip
    agents.add_transfer(
        conn,
        agents.Transfer(
            account_id=a, conversation_id="conv-1", number=0, from_agent_id="user-1",
            from_skill_id=None, to_skill_id="skill-1", reason=f"reason {a}", transferred_ms=NOW,
        ),
    )  # fmt: skip
    # A closed conversation with a submitted survey, and an exported hour (Data Access).
    conversations.add_conversation(
        conn,
        conversations.Conversation(
            account_id=a, conversation_id="conv-done", consumer_id="consumer-1", state="CLOSE",
            created_ms=NOW, closed_ms=NOW + 5, visitor_id=VISIT[0], session_id=VISIT[1],
        ),
    )  # fmt: skip
    conversations.add_message(
        conn,
        conversations.Message(
            account_id=a, conversation_id="conv-done", sequence=0, dialog_id="conv-done",
            participant_id="consumer-1", role="CONSUMER", event_type="ContentEvent",
            event={"message": f"done in {a}"}, server_ms=NOW + 1,
        ),
    )  # fmt: skip
    surveys.put_state(
        conn,
        surveys.SurveyState(
            account_id=a, conversation_id="conv-done", survey_id=1, status="submitted",
            state_revision=1, answers=[], submitted=[{"questionText": a}], last_action_ms=NOW,
        ),
    )  # fmt: skip
    exports.mark_exported(conn, a, [0], NOW)
    for revision in range(1, 2 + extra):
        outcomes.add_config(
            conn,
            outcomes.ConfigRevision(
                account_id=a, revision=revision, document={"owner": a}, created_ms=NOW,
                author=a[:64],
            ),
        )  # fmt: skip
        outcomes.add_submission(
            conn,
            outcomes.Submission(
                account_id=a, conversation_id="conv-1", number=revision - 1, sde="purchase",
                form_values={"orderId": a}, agent_id="user-1", seq=revision, submitted_ms=NOW,
            ),
        )  # fmt: skip
    for i in range(1 + extra):
        reported = record(
            conn,
            a,
            [
                CustomerInfo(info=CustomerInfoData(cstatus=f"{a} {i}")),
                PersonalInfo(personal=PersonalData(firstname=a)),
                Transaction(orderId=f"{a} {i}"),
                ServiceActivity(service=ServiceData(topic=a)),
            ],
            Origin(
                source="connector", authenticated=bool(i % 2), actor=a,
                consumer_id="consumer-1", visitor_id=VISIT[0], session_id=VISIT[1],
                request_id=a[:64],
            ),
            now_ms=NOW + i,
            window_ms=12 * HOUR_MS,
        )  # fmt: skip
        tenant.seqs.update(e.meta.seq for e in reported)


def offer(account_id: str, context_id: str) -> visits.Offer:
    return visits.Offer(
        context_id=context_id, campaign_id="campaign-1", engagement_id="engagement-1",
        revision=1, page_id="page-1", offered_ms=NOW, details={"owner": account_id},
    )  # fmt: skip


# Writes run in the writer process: what they add to a tenant comes back as their result.
def populated(conn: Connection, tenant: Tenant, extra: int) -> set[int]:
    populate(conn, tenant, extra)
    return tenant.seqs


def written(conn: Connection, tenant: Tenant) -> tuple[dict[str, Any], set[int]]:
    done = writes_for(conn, tenant)
    return done, tenant.seqs


def writes_for(conn: Connection, tenant: Tenant) -> dict[str, Any]:
    """Call every account-scoped write for ``tenant``, under the shared ids."""
    a = tenant.account_id
    origin = Origin(source="api", authenticated=False, actor=a, consumer_id="consumer-1")
    entries = events.append(
        conn, a, [CustomerInfo(info=CustomerInfoData(cstatus=f"late {a}"))], origin,
        server_ms=NOW + 50,
    )  # fmt: skip
    tenant.seqs.update(e.meta.seq for e in entries)
    events.attribute(conn, a, "conv-1", [e.meta.seq for e in entries])
    for kind, scope_id in SCOPES:
        events.update_state(conn, a, kind, scope_id, entries)
    history.index_terms(conn, a, ["conv-1"], entries)
    return {
        "history.index_terms": None,
        "terms.drain_terms": terms.drain_terms(conn, a),
        "events.append": entries,
        "events.attribute": None,
        "events.update_state": None,
        "conversations.next_sequence": conversations.next_sequence(conn, a, "conv-1"),
        "conversations.take_sequence": conversations.take_sequence(conn, a, "conv-1", "consumer-1"),
        "conversations.set_chat_state": conversations.set_chat_state(
            conn, a, "conv-1", "consumer-1", "COMPOSING"
        ),
        "conversations.update_conversation": conversations.update_conversation(
            conn, a, "conv-1", state="CLOSE", closed_ms=NOW + 60, ttr=a[:16]
        ),
        "conversations.close_dialogs": conversations.close_dialogs(conn, a, "conv-1", NOW + 60),
        "conversations.close": conversations.close(conn, a, "conv-1", NOW + 60, "AGENT"),
        "engagementlines.keep": engagementlines.keep(conn, a, "conv-1"),  # kept: no-op
        "identities.consumer_of": [  # an identity the account has, and a new one
            identities.consumer_of(conn, a, "ext", ext, NOW + 60) for ext in ("ext-1", "ext-2")
        ],
        "accounts.extend_session": accounts.extend_session(conn, a, "session-1", NOW + 99),
        "accounts.revoke_session": accounts.revoke_session(conn, a, "session-1"),
        "accounts.set_allowed_origins": accounts.set_allowed_origins(
            conn, a, [f"https://late-{a}.example"]
        ),
        "keys.delete_brand_keys": keys.delete_brand_keys(conn, a),
        "visits.touch_visit": visits.touch_visit(conn, a, *VISIT, last_ms=NOW + 70),
        "visits.put_page": visits.put_page(conn, a, *VISIT, "page-1", ["sec://late"], NOW + 70),
        "visits.next_context_id": visits.next_context_id(conn, a, *VISIT),
        "visits.add_offer": visits.add_offer(conn, a, *VISIT, offer(a, "2")),
        "surveys.assign_skills": surveys.assign_skills(conn, a, 1, ["skill-1", "skill-late"]),
        "agents.set_skills": agents.set_skills(conn, a, "user-1", ["skill-late"]),
        "agents.lock_conversation": agents.lock_conversation(conn, a, "conv-1"),
        "agents.leave": agents.leave(conn, a, "conv-1", "user-1", NOW + 80),
        "agents.assign": agents.assign(conn, a, "conv-queue", "user-2", NOW + 80),
        "exports.mark_exported": exports.mark_exported(conn, a, [HOUR_MS], NOW + 80),
        "exports.forget_exported": exports.forget_exported(conn, a, 1),
        "exports.cluster_sde_texts": exports.cluster_sde_texts(conn, a, NOW + 10 * HOUR_MS),
    }


def read_all(conn: Connection, account_id: str) -> dict[str, list[Any]]:
    return {
        name: [fn(conn, **kwargs) for kwargs in calls(name, fn, account_id)]
        for name, fn in sorted(scoped(READS).items())
    }


def leaks(name: str, result: Any, own: Tenant, other: Tenant) -> list[str]:
    """Where ``result`` (read for ``own``) shows anything of ``other``'s."""
    found: list[str] = []

    def walk(v: Any, path: str) -> None:
        if isinstance(v, str | bytes):
            marker = other.account_id if isinstance(v, str) else other.account_id.encode()
            if marker in v:
                found.append(f"{path}: {v!r}")
        elif isinstance(v, Provenance):
            if v.seq in other.seqs or v.seq not in own.seqs:
                found.append(f"{path}.seq: {v.seq}")
            if v.actor is not None:
                walk(v.actor, f"{path}.actor")
        elif isinstance(v, msgspec.Struct):
            owner = getattr(v, "account_id", own.account_id)
            if owner != own.account_id:
                found.append(f"{path}.account_id: {owner!r}")
            for field in v.__struct_fields__:
                walk(getattr(v, field), f"{path}.{field}")
        elif isinstance(v, list | tuple):
            for i, item in enumerate(v):
                walk(item, f"{path}[{i}]")
        elif isinstance(v, dict):
            for key, item in v.items():
                walk(key, f"{path}.{key}")
                walk(item, f"{path}.{key}")

    walk(result, name)
    if name == "events.seqs_in_window":
        for variant in result:
            found.extend(f"{name}: seq {s}" for s in variant if s not in own.seqs)
    return found


def non_empty(result: Any) -> bool:
    return result not in (None, [], 0, "")


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    database.migrate()
    database.start()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def tenants() -> tuple[Tenant, Tenant]:
    run = uuid.uuid4().hex[:10]
    return Tenant(f"iso-a-{run}"), Tenant(f"iso-b-{run}")


# --- the tests -----------------------------------------------------------------------------


def test_every_public_store_function_is_classified() -> None:
    found = public_functions()
    assert set(found) == READS | WRITES | RECORD_WRITES | UNSCOPED
    for name in READS | WRITES:
        assert "account_id" in inspect.signature(found[name]).parameters, name
    for name in RECORD_WRITES | UNSCOPED:
        assert "account_id" not in inspect.signature(found[name]).parameters, name


async def test_reads_of_one_account_never_see_another(
    db: Database, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    a.seqs |= await db.write(populated, a, 0)
    before = await db.read(lambda c: read_all(c, a.account_id))
    for name, results in before.items():
        assert all(non_empty(r) for r in results), f"{name} found nothing for A: {results}"
        assert leaks(name, results, own=a, other=b) == []

    b.seqs |= await db.write(populated, b, 2)
    b.seqs |= (await db.write(written, b))[1]

    after = await db.read(lambda c: read_all(c, a.account_id))
    for name in before:
        assert after[name] == before[name], f"{name} changed when account B wrote"
    theirs = await db.read(lambda c: read_all(c, b.account_id))
    for name, results in theirs.items():
        assert leaks(name, results, own=b, other=a) == [], name
    # B's own reads do see B's extra rows: the fixture has teeth.
    assert [p.entry_points for p in theirs["visits.pages"][0]] == [["sec://late"]]
    assert len(theirs["visits.offers"][0]) == 2
    assert len(theirs["accounts.list_users"][0]) == 3
    assert theirs["quarantine.count_for"] == [3]
    assert theirs["keys.brand_keys_of"] == [[]]
    session = theirs["accounts.get_session"][0]
    assert session.revoked and session.expires_ms == NOW + 99


async def test_writes_of_one_account_leave_another_alone(
    db: Database, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    a.seqs |= await db.write(populated, a, 0)
    b.seqs |= await db.write(populated, b, 0)
    before = await db.read(lambda c: read_all(c, a.account_id))
    done, seqs = await db.write(written, b)
    b.seqs |= seqs
    assert set(done) == WRITES
    assert await db.read(lambda c: read_all(c, a.account_id)) == before
    # Attributing B's events to A's conversation of the same id still shows A nothing of B's.
    await db.write(lambda c: events.attribute(c, a.account_id, "conv-1", sorted(b.seqs)))
    assert await db.read(lambda c: read_all(c, a.account_id)) == before


def test_every_table_leads_with_account_id() -> None:
    for table in tables.metadata.sorted_tables:
        assert "account_id" in table.c, f"{table.name} has no account_id"
        assert not table.c.account_id.nullable, table.name
        leading = [table.primary_key.columns.values()[0].name]
        leading += [next(iter(ix.columns)).name for ix in table.indexes]
        assert "account_id" in leading, f"{table.name}: no key or index leads with account_id"


def test_every_unique_constraint_includes_account_id() -> None:
    for table in tables.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint):
                columns = {c.name for c in constraint.columns}
                if columns == {"seq"} or columns == {"id"}:  # global surrogate keys
                    continue
                assert "account_id" in columns, f"{table.name}: {constraint}"
