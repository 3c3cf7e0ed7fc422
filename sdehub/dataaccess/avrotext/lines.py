"""WebSession and Engagement lines as Avro JSON text, written straight from the rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, NamedTuple

import msgspec

from sdehub.dataaccess import files
from sdehub.dataaccess.avrotext.goals import goal_item
from sdehub.dataaccess.avrotext.leaves import NULL, boolean, esc, header, i, long, s, stamp
from sdehub.dataaccess.avrotext.pages import page_item
from sdehub.dataaccess.avrotext.sdes import data as sde_data
from sdehub.dataaccess.records import NS, as_int, by_visit
from sdehub.dataaccess.sessions import END_REASONS, FORMATS
from sdehub.store.exports import Row
from sdehub.store.history import AGENT_ROLES

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
    start = _line_start("WebSession", account_id)
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
        line[1] = _span(times)
        lines.append("".join(line))
    return lines


class VisitText(NamedTuple):
    """One visit's part of an hour, as the export's queries aggregate it: the items' text joined
    with commas (None when the visit has no item of the kind, as an SDE Data Access does not
    carry) and their first and last times."""

    visitor_id: str
    session_id: str
    items: str | None
    first_ms: int | None
    last_ms: int | None


def web_session_lines_from_texts(
    account_id: str,
    sde_texts: Iterable[VisitText],
    page_texts: Iterable[VisitText],
    goal_texts: Iterable[VisitText],
) -> list[str]:
    """The WebSession lines from the stored items, joined per visit by the export's queries
    (``sdehub.store.exports.web_sde_texts``...): the text :func:`web_session_lines` writes from
    the rows, to the byte, with a few pieces per visit left to Python instead of one or more per
    SDE, page and goal."""
    kinds = [
        (_ATTRS, {(v[0], v[1]): v for v in sde_texts}),
        (_PAGES, {(v[0], v[1]): v for v in page_texts}),
        (_GOALS, {(v[0], v[1]): v for v in goal_texts}),
    ]
    start = _line_start("WebSession", account_id)
    lines = []
    for visit in sorted({visit for _, found in kinds for visit in found}):
        head = header(*visit)
        line = [start, ""]  # the span goes second, once the times are known
        piece = line.append
        first: Any = None
        last: Any = None
        for (opening, middle), visits in kinds:
            found = visits.get(visit)
            if found is None:
                continue
            piece(("," if len(line) > 2 else "") + opening + head + middle)
            items, at_first, at_last = found[2], found[3], found[4]
            if items is not None:
                piece(items)
            piece(_CLOSING)
            if at_first is not None and (first is None or at_first < first):
                first = at_first
            if at_last is not None and (last is None or at_last > last):
                last = at_last
        piece("]}}")
        if type(first) is int and type(last) is int:
            line[1] = (
                f',"startTime":{{"long":{first}}},"endTime":{{"long":{last}}}}}}}'
                ',"recordCollection":{"array":['
            )
        else:
            line[1] = _span([first, last])
        lines.append("".join(line))
    return lines


# --- Engagement lines --------------------------------------------------------------------------


_FORMATS: Final = {kind: '{"string":"' + name + '"}' for kind, name in FORMATS.items()}
_NA: Final = '{"string":"NA"}'  # structured content has no documented contentFormat


def _author(pid: Any, role: Any) -> str:
    """A transcript line's ``by`` to ``agentId``: 0 visitor line, 1 rep line (the documented
    message types)."""
    by = s(pid)
    if role in AGENT_ROLES:
        return f'"by":{by},"type":{{"string":"1"}},"controlType":null,"agentId":{by}'
    return f'"by":{by},"type":{{"string":"0"}},"controlType":null,"agentId":null'


def _transcript(conv: Row) -> tuple[list[str], bool]:
    """The transcript lines, and whether the consumer wrote any (``isInteractive``)."""
    lines = []
    interactive = False
    cid = conv["conversation_id"]
    message_id = esc(cid)[:-1] + ":"  # the messageId's JSON string, but its sequence and quote
    authors: dict[tuple[Any, Any], str] = {}
    dialogs: dict[Any, str] = {}
    for m in conv["messages"]:
        kind = m["event_type"]
        if kind == "ContentEvent":
            event = m["event"]
            fmt = _FORMATS.get(event.get("contentType", "text/plain"), _NA)
        elif kind == "RichContentEvent":
            event = m["event"]
            fmt = _NA
        else:
            continue
        who = (m["participant_id"], m["role"])
        author = authors.get(who)
        if author is None:
            author = authors[who] = _author(*who)
        if not interactive and who[1] not in AGENT_ROLES:
            interactive = True
        dialog = dialogs.get(m["dialog_id"])
        if dialog is None:
            dialog = dialogs[m["dialog_id"]] = s(m["dialog_id"])
        text = event.get("message")
        if type(text) is str:
            text = '{"string":' + esc(text) + "}"
        else:
            text = s(text)
        at, seq = m["server_ms"], m["sequence"]
        lines.append(
            f'{{"text":{text},"timestamp":{{"long":{at}}},{author},"contentFormat":{fmt}'
            f',"messageId":{{"string":{message_id}{seq}"}},"dialogId":{dialog}'
            ',"fileData":null,"linkData":null,"mcs":null}'
            if type(at) is int and type(seq) is int
            else f'{{"text":{text},"timestamp":{long(at)},{author},"contentFormat":{fmt}'
            f',"messageId":{s(f"{cid}:{seq}")},"dialogId":{dialog}'
            ',"fileData":null,"linkData":null,"mcs":null}'
        )
    return lines, interactive


def _line_start(kind: str, account_id: str) -> str:
    """A line's text before its ``startTime``."""
    return (
        f'{{"dataType":{{"{NS}.DataTypeEnum":"{kind}"}},"metaData":{{"{NS}.MetaData":'
        f'{{"accountId":{s(account_id)},"schemaVersion":"{files.SCHEMA_VERSION}"'
    )


def _span(times: list[Any]) -> str:
    """A line's ``startTime`` and ``endTime`` text, up to its ``recordCollection``'s array."""
    known = [t for t in times if t is not None]
    if not known:
        return ',"startTime":null,"endTime":null}},"recordCollection":{"array":['
    return (
        f',"startTime":{long(min(known))},"endTime":{long(max(known))}}}}}'
        ',"recordCollection":{"array":['
    )


_END_REASONS: Final = {reason: i(code) for reason, code in END_REASONS.items()}
_OTHER_END: Final = i(201)


class _Shared:
    """Text that many conversations of a file share: their visit header (none, for messaging),
    skill and campaign."""

    def __init__(self) -> None:
        self.heads: dict[tuple[Any, Any], str] = {}
        self.skills: dict[Any, tuple[str, str]] = {}
        self.campaigns: dict[tuple[Any, Any], str] = {}

    def head(self, conv: Row) -> str:
        visit = (conv["visitor_id"] or "", conv["session_id"] or "")
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


def _conversation_line(start: str, conv: Row, shared: _Shared) -> str:
    """One closed conversation's Engagement line (``sessions`` documents the choices)."""
    agents = [p for p in conv["participants"] if p["role"] in AGENT_ROLES]
    lines, interactive = _transcript(conv)
    first_agent = stamp(agents[0]["joined_ms"]) if agents else NULL
    kind = "MESSAGING" if conv["channel_type"] == "MESSAGING" else "LIVE_CHAT"
    skills, skill = shared.skill(conv["skill_id"])
    created, closed = conv["created_ms"], conv["closed_ms"]
    created_text = stamp(created)
    if type(created) is int and type(closed) is int:
        span = (
            f',"startTime":{{"long":{min(created, closed)}}},"endTime":{{"long":'
            f'{max(created, closed)}}}}}}},"recordCollection":{{"array":['
        )
    else:
        span = _span([created, closed])
    end_reason = _END_REASONS.get(conv["close_reason"] or "CONSUMER", _OTHER_END)
    campaign = shared.campaign(conv["campaign_id"], conv["engagement_id"])
    return (
        f'{start}{span}{{"body":{{"{NS}.EngagementData":{{"header":'
        f'{shared.head(conv)},"engagements":{{"array":[{{"{NS}.Conversation":{{"type":'
        f'{{"{NS}.ConversationType":"{kind}"}},"conversationId":{s(conv["conversation_id"])}'
        f',"conversationStartTime":{created_text},"interactionStartTime":{first_agent}'
        f',"conversationEndTime":{stamp(closed)},"consumerId":{s(conv["consumer_id"])}'
        f',"isInteractive":{boolean(interactive)},"sourceOrigin":null,"sourceDevice":null'
        f',"endReasonId":{end_reason},"campaignData":{campaign}'
        f',"skills":{skills},"startReasonId":{{"int":0}}'
        f',"startPage":null,"startUrl":null,"transcripts":{{"array":[{",".join(lines)}]}}'
        ',"transfers":{"array":[]},"secureForms":{"array":[]},"mcs":null'
        f',"queueStartTime":{created_text},"queueEndTime":{first_agent}'
        f',"agentId":{s(agents[-1]["participant_id"]) if agents else NULL}'
        f',"skillId":{skill}}}}}]}}}}}}}}]}}}}'
    )


def engagement_lines(account_id: str, convs: Iterable[Row]) -> list[str]:
    """The Engagement lines: one per closed conversation."""
    start = _line_start("Engagement", account_id)
    shared = _Shared()
    return [_conversation_line(start, c, shared) for c in convs]
