"""``interactions`` and ``summary`` of Messaging Interactions records, against the documented
example (tests/data/msghist_interactions.json), and through the API after a real assignment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdehub.msghist import Ask, Snapshot, interactions, record
from sdehub.store.accounts import User
from sdehub.store.conversations import Conversation, Participant
from tests.harness import ACCOUNT, Harness

GOLDEN = json.loads((Path(__file__).parent / "data" / "msghist_interactions.json").read_text())
CONV = "e5c58e49-e4a5-40a8-8a18-d6580d1d5630"
START = 1472481024565


def agent(user_id: str, login: str, nickname: str | None, full: str | None) -> User:
    return User(
        account_id="qa26409991", user_id=user_id, login_name=login, password_hash="x",
        nickname=nickname, full_name=full, email=None, emulated=False, created_ms=START,
    )  # fmt: skip


def participant(pid: str, role: str, joined: int, left: int | None = None) -> Participant:
    return Participant(
        account_id="qa26409991", conversation_id=CONV, participant_id=pid, role=role,
        joined_ms=joined, left_ms=left,
    )  # fmt: skip


def snapshot(participants: list[Participant], agents: dict[str, User]) -> Snapshot:
    conv = Conversation(
        account_id="qa26409991", conversation_id=CONV, consumer_id="consumer-1", state="OPEN",
        created_ms=START,
    )  # fmt: skip
    return Snapshot(
        conversation=conv, entries=[], messages=[], participants=participants, dialogs=[],
        agents=agents,
    )  # fmt: skip


def test_the_documented_example() -> None:
    snap = snapshot(
        [
            participant("consumer-1", "CONSUMER", START),
            participant("3677470410", "ASSIGNED_AGENT", 1472483644999),
        ],
        {"3677470410": agent("3677470410", "michal@lp.com", "michal@lp.com", "michal@lp.com")},
    )
    out = record(snap, Ask(content=frozenset({"interactions", "summary"})), now_ms=START)
    assert out["interactions"] == GOLDEN["interactions"]
    assert out["summary"] == GOLDEN["summary"]
    # Key order as documented (clients that print records see the same layout).
    assert list(out["interactions"][0]) == list(GOLDEN["interactions"][0])


def test_each_assignment_is_an_interaction_in_order() -> None:
    snap = snapshot(
        [
            participant("a-2", "ASSIGNED_AGENT", START + 5_000),
            participant("m-1", "MANAGER", START + 1_000),  # a manager joining is no interaction
            participant("a-1", "ASSIGNED_AGENT", START + 2_000, left=START + 4_000),
        ],
        {"a-1": agent("a-1", "ann", None, None)},
    )
    found = interactions(snap)
    assert [(i["assignedAgentId"], i["interactiveSequence"]) for i in found] == [
        ("a-1", 1),
        ("a-2", 2),
    ]
    # Names fall back to the login name; an agent the account does not know has only its id.
    assert found[0]["assignedAgentFullName"] == "ann" == found[0]["assignedAgentNickname"]
    assert "assignedAgentLoginName" not in found[1]
    assert found[1]["interactionTimeL"] == START + 5_000


def test_unasked_sections_are_absent() -> None:
    out = record(snapshot([], {}), Ask(content=frozenset({"sdes"})), now_ms=START)
    assert "interactions" not in out and "summary" not in out


@pytest.mark.anyio
async def test_an_agent_accepting_a_conversation_is_its_interaction(h: Harness) -> None:
    conversation_id = await h.open_conversation(await h.connector(ext_id="c-int"))
    r = await h.client.post(
        f"/api/account/{ACCOUNT}/login", params={"v": "1.3"},
        json={"username": "agent-1", "password": "pw-1"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['bearer']}"}
    user_id = r.json()["config"]["userId"]
    h.clock.advance(5_000)
    r = await h.client.post(
        f"/api/account/{ACCOUNT}/agent-workspace/conversations/{conversation_id}/accept",
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = {
        "conversationId": conversation_id,
        "contentToRetrieve": ["interactions", "summary", "agentParticipants"],
    }
    r = await h.client.post(
        f"/messaging_history/api/account/{ACCOUNT}/conversations/conversation/search",
        json=body,
        headers=headers,
    )
    assert r.status_code == 200, r.text
    rec = r.json()["conversationHistoryRecords"][0]
    (interaction,) = rec["interactions"]
    (joined,) = rec["agentParticipants"]
    assert interaction["assignedAgentId"] == joined["agentId"] == user_id
    assert interaction["interactionTimeL"] == joined["timeL"] == h.clock.now_ms()
    assert interaction["interactiveSequence"] == 1
    assert interaction["assignedAgentLoginName"] == "agent-1"
    assert rec["summary"] == {"text": "", "lastUpdatedTime": 0}
