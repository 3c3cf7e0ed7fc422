"""Engagement lines as Avro JSON text: one per closed conversation.

Two ways in, one writer. :func:`engagement_lines` takes conversations as mappings (each with its
``participants`` and ``messages``, as ``sdehub.store.exports.conversations_closed_between`` reads
them); :func:`engagement_lines_from_rows` takes the driver's rows of the export's own queries
(``exports.engagement_rows``): no mapping per row, the conversation's agents only, and each
transcript as the store kept it, its items joined by the query. A transcript item is written by
:func:`transcript_item` when its message is stored (``sdehub.store.transcripts``), and by
:func:`_transcript` from messages read (the mappings; the conversations whose messages were
stored before the items were kept): both through :func:`_item`, so every way writes the same
bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

import msgspec

from sdehub.dataaccess.avrotext.leaves import NULL, boolean, esc, header, i, long, s, stamp
from sdehub.dataaccess.avrotext.lines import line_start, span
from sdehub.dataaccess.records import NS, as_int
from sdehub.dataaccess.sessions import END_REASONS, FORMATS
from sdehub.store.exports import EngagementRows, Row
from sdehub.store.history import AGENT_ROLES

_FORMATS: Final = {kind: '{"string":"' + name + '"}' for kind, name in FORMATS.items()}
_NA: Final = '{"string":"NA"}'  # structured content has no documented contentFormat
_END_REASONS: Final = {reason: i(code) for reason, code in END_REASONS.items()}
_OTHER_END: Final = i(201)


class _Event(msgspec.Struct):
    """What a transcript line takes of a stored event (its other fields are skipped unread);
    the defaults are what a mapping's ``.get`` gave for a missing field."""

    contentType: Any = "text/plain"
    message: Any = None


_events = msgspec.json.Decoder(list[_Event])


def _author(pid: Any, agent: bool) -> str:
    """A transcript line's ``by`` to ``agentId``: 0 visitor line, 1 rep line (the documented
    message types)."""
    by = s(pid)
    if agent:
        return f'"by":{by},"type":{{"string":"1"}},"controlType":null,"agentId":{by}'
    return f'"by":{by},"type":{{"string":"0"}},"controlType":null,"agentId":null'


def _format(content: bool, content_type: Any) -> str:
    """``contentFormat``: a ContentEvent's content type; structured content has none. (Only a
    str can be one of the names: anything else, a list included, is not one.)"""
    if content and type(content_type) is str:
        return _FORMATS.get(content_type, _NA)
    return _NA


def _item(
    cid: Any, message_id: str, seq: Any, dialog: str, author: str, fmt: str, text: Any, at: Any
) -> str:
    """One message's item of the transcript: ``message_id`` is the messageId's JSON string but
    its sequence and closing quote, ``dialog`` / ``author`` / ``fmt`` the texts made above."""
    if type(text) is str and type(at) is int and type(seq) is int:
        return (
            f'{{"text":{{"string":{esc(text)}}},"timestamp":{{"long":{at}}},{author}'
            f',"contentFormat":{fmt},"messageId":{{"string":{message_id}{seq}"}}'
            f',"dialogId":{dialog},"fileData":null,"linkData":null,"mcs":null}}'
        )
    return (
        f'{{"text":{s(text)},"timestamp":{long(at)},{author},"contentFormat":{fmt}'
        f',"messageId":{s(f"{cid}:{seq}")},"dialogId":{dialog}'
        ',"fileData":null,"linkData":null,"mcs":null}'
    )


def transcript_item(
    cid: str,
    seq: int,
    dialog_id: str,
    pid: str,
    agent: bool,
    content: bool,
    content_type: Any,
    text: Any,
    at: int,
) -> str:
    """One message's item of an Engagement line's transcript, as the export writes it: the store
    keeps it when the message is written (``sdehub.store.transcripts``), and the export's query
    joins a conversation's items. ``agent``: by one of ``AGENT_ROLES``; ``content``: a
    ContentEvent (else a RichContentEvent); ``content_type`` and ``text`` the event's
    ``contentType`` (``"text/plain"`` when absent) and ``message``."""
    return _item(
        cid,
        esc(cid)[:-1] + ":",
        seq,
        s(dialog_id),
        _author(pid, agent),
        _format(content, content_type),
        text,
        at,
    )


def _transcript(
    cid: Any, messages: Iterable[Sequence[Any]], events: Iterable[_Event], dialogs: dict[Any, str]
) -> tuple[str, bool]:
    """The transcript's text, and whether the consumer wrote any (``isInteractive``).

    ``messages`` are rows as the export's query returns them (``EngagementRows.messages``: the
    conversation's id, sequence, dialog, participant, by an agent, a ContentEvent (else a
    RichContentEvent), the event's text, time), ``events`` their events decoded; ``dialogs``
    caches the ``dialogId`` text (the query hands over NULL for the conversation's own id)."""
    lines: list[str] = []
    append = lines.append
    interactive = False
    message_id = esc(cid)[:-1] + ":"  # the messageId's JSON string, but its sequence and quote
    by_agents: dict[Any, str] = {}
    by_others: dict[Any, str] = {}
    for (_, seq, dialog_id, pid, agent, content, _, at), event in zip(
        messages, events, strict=True
    ):
        if agent:
            author = by_agents.get(pid)
            if author is None:
                author = by_agents[pid] = _author(pid, True)
        else:
            author = by_others.get(pid)
            if author is None:
                author = by_others[pid] = _author(pid, False)
            interactive = True
        dialog = dialogs.get(dialog_id)
        if dialog is None:
            dialog = dialogs[dialog_id] = s(dialog_id)
        fmt = _format(content, event.contentType)
        append(_item(cid, message_id, seq, dialog, author, fmt, event.message, at))
    return ",".join(lines), interactive


class _Shared:
    """Text that many conversations of a file share: their visit header (none, for messaging),
    skill and campaign."""

    def __init__(self) -> None:
        self.heads: dict[tuple[Any, Any], str] = {}
        self.skills: dict[Any, tuple[str, str]] = {}
        self.campaigns: dict[tuple[Any, Any], str] = {}

    def head(self, visitor_id: Any, session_id: Any) -> str:
        visit = (visitor_id or "", session_id or "")
        found = self.heads.get(visit)
        if found is None:
            found = self.heads[visit] = header(*visit, "")
        return found

    def skill(self, skill_id: Any) -> tuple[str, str]:
        """``skills`` and ``skillId``."""
        found = self.skills.get(skill_id)
        if found is None:
            skill = as_int(skill_id)
            found = self.skills[skill_id] = (
                '{"array":[' + ("" if skill is None else str(skill)) + "]}",
                long(skill),
            )
        return found

    def campaign(self, campaign_id: Any, engagement_id: Any) -> str:
        key = (campaign_id, engagement_id)
        found = self.campaigns.get(key)
        if found is None:
            campaign, engagement = as_int(campaign_id), as_int(engagement_id)
            if campaign is None and engagement is None:
                found = NULL
            else:
                found = (
                    f'{{"{NS}.CampaignData":{{"campaignId":{long(campaign)}'
                    f',"campaignEngagementId":{long(engagement)}}}}}'
                )
            self.campaigns[key] = found
        return found


# A conversation: the fields of the export's conversation query, in its order.
_CONVERSATION: Final = (
    "conversation_id", "consumer_id", "created_ms", "closed_ms", "close_reason", "skill_id",
    "campaign_id", "engagement_id", "visitor_id", "session_id", "channel_type",
)  # fmt: skip


def _line(
    start: str,
    shared: _Shared,
    conv: Sequence[Any],
    agents: Sequence[Sequence[Any]],
    transcript: str,
    interactive: bool,
) -> str:
    """One closed conversation's Engagement line (``sessions`` documents the choices):
    ``conv`` as :data:`_CONVERSATION`, ``agents`` its agents' ``(participant_id, joined_ms)``
    by time joined."""
    (cid, consumer_id, created, closed, close_reason, skill_id, campaign_id, engagement_id,
     visitor_id, session_id, channel_type) = conv  # fmt: skip
    first_agent = stamp(agents[0][1]) if agents else NULL
    kind = "MESSAGING" if channel_type == "MESSAGING" else "LIVE_CHAT"
    skills, skill = shared.skill(skill_id)
    created_text = stamp(created)
    if type(created) is int and type(closed) is int:
        at = (
            f',"startTime":{{"long":{min(created, closed)}}},"endTime":{{"long":'
            f'{max(created, closed)}}}}}}},"recordCollection":{{"array":['
        )
    else:
        at = span([created, closed])
    end_reason = _END_REASONS.get(close_reason or "CONSUMER", _OTHER_END)
    campaign = shared.campaign(campaign_id, engagement_id)
    return (
        f'{start}{at}{{"body":{{"{NS}.EngagementData":{{"header":'
        f'{shared.head(visitor_id, session_id)},"engagements":{{"array":[{{"{NS}.Conversation":'
        f'{{"type":{{"{NS}.ConversationType":"{kind}"}},"conversationId":{s(cid)}'
        f',"conversationStartTime":{created_text},"interactionStartTime":{first_agent}'
        f',"conversationEndTime":{stamp(closed)},"consumerId":{s(consumer_id)}'
        f',"isInteractive":{boolean(interactive)},"sourceOrigin":null,"sourceDevice":null'
        f',"endReasonId":{end_reason},"campaignData":{campaign}'
        f',"skills":{skills},"startReasonId":{{"int":0}}'
        f',"startPage":null,"startUrl":null,"transcripts":{{"array":[{transcript}]}}'
        ',"transfers":{"array":[]},"secureForms":{"array":[]},"mcs":null'
        f',"queueStartTime":{created_text},"queueEndTime":{first_agent}'
        f',"agentId":{s(agents[-1][0]) if agents else NULL}'
        f',"skillId":{skill}}}}}]}}}}}}}}]}}}}'
    )


_KINDS: Final = {"ContentEvent": True, "RichContentEvent": False}  # the transcript's


def engagement_lines(account_id: str, convs: Iterable[Row]) -> list[str]:
    """The Engagement lines: one per closed conversation, from mappings with their
    ``participants`` and ``messages``."""
    start = line_start("Engagement", account_id)
    shared = _Shared()
    lines = []
    for conv in convs:
        cid = conv["conversation_id"]
        agents = [
            (p["participant_id"], p["joined_ms"])
            for p in conv["participants"]
            if p["role"] in AGENT_ROLES
        ]
        messages, events = [], []
        for m in conv["messages"]:
            content = _KINDS.get(m["event_type"])
            if content is None:
                continue
            messages.append(
                (cid, m["sequence"], m["dialog_id"], m["participant_id"],
                 m["role"] in AGENT_ROLES, content, None, m["server_ms"])
            )  # fmt: skip
            event = m["event"]
            events.append(_Event(event.get("contentType", "text/plain"), event.get("message")))
        transcript, interactive = _transcript(cid, messages, events, {})
        row = [conv[f] for f in _CONVERSATION]
        lines.append(_line(start, shared, row, agents, transcript, interactive))
    return lines


def engagement_lines_from_rows(account_id: str, found: EngagementRows) -> list[str]:
    """The Engagement lines from the rows of ``exports.engagement_rows``: one per
    conversation, in the conversations' order; the transcripts as stored, but those of the
    conversations whose messages are read (written before the items were kept)."""
    start = line_start("Engagement", account_id)
    shared = _Shared()
    first = itemgetter(0)
    agents = {cid: [p[1:] for p in group] for cid, group in groupby(found.agents, first)}
    messages = {cid: list(group) for cid, group in groupby(found.messages, first)}
    # Every stored event read in one decode: one call instead of one per message.
    events = _events.decode("[" + ",".join([m[6] for m in found.messages]) + "]")
    decoded, at = {}, 0
    for cid, group in messages.items():
        decoded[cid] = events[at : at + len(group)]
        at += len(group)
    lines = []
    for row in found.conversations:
        cid = row[0]
        conv = row[:11]
        read = messages.get(cid)
        if read is None:
            transcript, interactive = row[11] or "", bool(row[12])
        else:
            transcript, interactive = _transcript(cid, read, decoded[cid], {None: s(cid)})
        lines.append(_line(start, shared, conv, agents.get(cid, ()), transcript, interactive))
    return lines
