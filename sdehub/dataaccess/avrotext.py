"""WebSession and Engagement lines as Avro JSON text, written straight from the rows.

These two files are most of an hour's bytes, and Avro JSON is mostly constant text: every field
name, every ``{"string": ...}`` / ``{"com.liveperson.dataaccess.X": ...}`` union wrapper, every
absent field's ``null``. Building a dict per record and per wrapper and then encoding it (the
generic path, ``files.encode_line``) cost several times what ``gzip -6`` takes to compress the
result (docs/benchmarks.md, "Export"); here each record is one string built from literal pieces
and its escaped leaf values only. An SDE's record depends only on its type, its stored payload
text and whether it was authenticated, so it is built once per distinct payload in a file.

The text is the generic encoder's to the byte: the tests read every line back with fastavro
against the shipped schema and encode it again with ``files.encode_line``.
"""

from __future__ import annotations

import json.encoder
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Final

import msgspec

from sdehub.dataaccess import files
from sdehub.dataaccess.records import GOAL_TYPES, NS, as_int, by_visit
from sdehub.dataaccess.sessions import END_REASONS, FORMATS
from sdehub.model.naming import BY_WIRE
from sdehub.msghist import AGENT_ROLES
from sdehub.store.exports import Row

Datum = dict[str, Any]
# A JSON string literal: the stdlib's C escaper writes exactly what msgspec writes for any str
# (quotes, backslashes and control characters escaped, everything else as is).
_esc: Final[Callable[[str], str]] = json.encoder.encode_basestring
_encode_float = _encode = msgspec.json.encode
NULL: Final = "null"


# --- leaf values: the nullable unions of the schema ----------------------------------------------


def s(value: Any) -> str:
    """``["null", "string"]`` of ``str(value)``."""
    if value is None:
        return NULL
    return '{"string":' + _esc(value if type(value) is str else str(value)) + "}"


def i(value: Any) -> str:
    """``["null", "int"]`` of a whole number (or digits); anything else is absent."""
    if type(value) is not int:
        value = as_int(value)
        if value is None:
            return NULL
    return '{"int":' + str(value) + "}"


def long(value: Any) -> str:
    """``["null", "long"]``, as :func:`i`."""
    if type(value) is not int:
        value = as_int(value)
        if value is None:
            return NULL
    return '{"long":' + str(value) + "}"


def double(value: Any) -> str:
    """``["null", "double"]`` of a number; msgspec's float text, as the generic encoder's."""
    if type(value) is float:
        return '{"double":' + _encode_float(value).decode() + "}"
    if type(value) is int:
        return '{"double":' + _encode_float(float(value)).decode() + "}"
    return NULL


def boolean(value: Any) -> str:
    if value is True:
        return '{"boolean":true}'
    return '{"boolean":false}' if value is False else NULL


# --- SDEs --------------------------------------------------------------------------------------

_PRODUCT = '{"' + NS + '.Product":{"name":'


def _products(items: Any) -> str:
    if not isinstance(items, list):
        return NULL
    out = []
    for item in items:
        product = item.get("product") or {}
        out.append(
            f'{{"quantity":{i(item.get("quantity"))},"product":{_PRODUCT}{s(product.get("name"))}'
            f',"category":{s(product.get("category"))},"sku":{s(product.get("sku"))}'
            f',"price":{double(product.get("price"))}}}}}}}'
        )
    return '{"array":[' + ",".join(out) + "]}"


def _date(value: Any) -> str:
    if not isinstance(value, dict):
        return NULL
    return (
        f'{{"{NS}.YMDDate":{{"year":{i(value.get("year"))},"month":{i(value.get("month"))}'
        f',"day":{i(value.get("day"))}}}}}'
    )


def _auth(auth: bool) -> str:
    return '"isAuthenticated":{"boolean":' + ("true" if auth else "false") + "}"


def _customer(p: Datum, auth: bool) -> str:
    x = p.get("info") or {}
    return (
        f'{_auth(auth)},"authenticatedConversationId":null'
        f',"customerStatus":{s(x.get("cstatus"))},"customerType":{s(x.get("ctype"))}'
        f',"balance":{double(x.get("balance"))},"customerId":{s(x.get("customerId"))}'
        f',"socialId":{s(x.get("socialId"))},"imei":{s(x.get("imei"))}'
        f',"userName":{s(x.get("userName"))},"companySize":{i(x.get("companySize"))}'
        f',"accountName":{s(x.get("accountName"))},"role":{s(x.get("role"))}'
        f',"lastPaymentDate":{_date(x.get("lastPaymentDate"))}'
        f',"registrationDate":{_date(x.get("registrationDate"))}'
        f',"storeNumber":{s(x.get("storeNumber"))},"storeZipCode":{s(x.get("storeZipCode"))}'
    )


def _personal(p: Datum, auth: bool) -> str:
    x = p.get("personal") or {}
    age = x.get("age")
    contacts = x.get("contacts")
    if isinstance(age, dict):
        age_text = (
            f'{{"{NS}.CustomerAge":{{"customerAgeInYears":{i(age.get("age"))}'
            f',"customerYearOfBirth":{i(age.get("year"))}'
            f',"customerMonthOfBirth":{i(age.get("month"))}'
            f',"customerDateOfBirth":{i(age.get("day"))}}}}}'
        )
    else:
        age_text = NULL
    if isinstance(contacts, list):
        listed = ",".join(
            f'{{"email":{s(c.get("email"))},"phone":{s(c.get("phone"))}}}' for c in contacts
        )
        contacts_text = '{"array":[' + listed + "]}"
    else:
        contacts_text = NULL
    return (
        f'{_auth(auth)},"authenticatedConversationId":null'
        f',"name":{s(x.get("firstname"))},"surname":{s(x.get("lastname"))}'
        f',"gender":{s(x.get("gender"))},"company":{s(x.get("company"))}'
        f',"customerAge":{age_text},"contacts":{contacts_text}'
    )


def _marketing(p: Datum, auth: bool) -> str:
    x = p.get("info") or {}
    return (
        f'"originatingChannel":{i(x.get("channel"))},"affiliate":{s(x.get("affiliate"))}'
        f',"campaignId":{s(x.get("campaignId", x.get("campaignID")))}'
    )


def _lead(p: Datum, auth: bool) -> str:
    x = p.get("lead") or {}
    return (
        f'"topic":{s(x.get("topic"))},"leadId":{s(x.get("leadId"))}'
        f',"value":{double(x.get("value"))}'
    )


def _purchase(p: Datum, auth: bool) -> str:
    cart = p.get("cart")
    if isinstance(cart, dict):
        cart_text = (
            f'{{"{NS}.Cart":{{"total":null,"numItems":{i(cart.get("numItems"))}'
            f',"products":{_products(cart.get("products"))}}}}}'
        )
    else:
        cart_text = NULL
    return f'"total":{double(p.get("total"))},"orderId":{s(p.get("orderId"))},"cart":{cart_text}'


def _cart(p: Datum, auth: bool) -> str:
    return (
        f'"total":{double(p.get("total"))},"numItems":{i(p.get("numItems"))}'
        f',"products":{_products(p.get("products"))}'
    )


def _viewed(p: Datum, auth: bool) -> str:
    return '"products":' + _products(p.get("products"))


def _service(p: Datum, auth: bool) -> str:
    x = p.get("service") or {}
    return (
        f'"topic":{s(x.get("topic"))},"status":{i(x.get("status"))}'
        f',"category":{s(x.get("category"))},"serviceId":{s(x.get("serviceId"))}'
    )


def _error(p: Datum, auth: bool) -> str:
    x = p.get("error") or {}
    # Data Access types the code as a long; a code that is not a number has nowhere to go.
    resolved = x.get("resolved")
    return (
        f'"contextId":{s(x.get("contextId"))},"message":{s(x.get("message"))}'
        f',"code":{long(x.get("code"))},"level":{long(x.get("level"))}'
        f',"resolved":{boolean(resolved) if isinstance(resolved, bool) else NULL}'
    )


SDE_RECORDS: Final[dict[str, Callable[[Datum, bool], str]]] = {
    "ctmrinfo": _customer,
    "personal": _personal,
    "mrktInfo": _marketing,
    "lead": _lead,
    "purchase": _purchase,
    "cart": _cart,
    "prodView": _viewed,
    "service": _service,
    "error": _error,
}

# Wire type -> (the text before the record's fields, builder), for the types Data Access carries.
_BUILDERS: Final = {
    wire: (',"data":{"' + NS + "." + BY_WIRE[wire].dataaccess + '":{', build)  # type: ignore[operator]
    for wire, build in SDE_RECORDS.items()
    if wire in BY_WIRE and BY_WIRE[wire].dataaccess
}
_decode = msgspec.json.Decoder().decode


def _data(wire: str, auth: bool, payload: Any) -> str:
    """``,"data":{...}}`` of one SDE: the end of its ``EngagementAttribute``; empty for the types
    Data Access does not carry."""
    found = _BUILDERS.get(wire)
    if found is None:
        return ""
    prefix, build = found
    return prefix + build(_decode(payload) if isinstance(payload, str) else payload, auth) + "}}}"


# --- WebSession lines ----------------------------------------------------------------------------


def header(visitor_id: Any, session_id: Any, context_id: Any = None) -> str:
    return (
        f'{{"{NS}.VisitorHeader":{{"visitId":{s(session_id)},"visitorId":{s(visitor_id)}'
        f',"contextId":{s(context_id)}}}}}'
    )


def _page(page: Row) -> str:
    url = NULL
    sections = []
    for point in page["entry_points"] or ():
        point = point if type(point) is str else str(point)
        if point[:6].lower() == "sec://":
            sections.append(_esc(point[6:]))
        elif url is NULL:
            url = '{"string":' + _esc(point) + "}"
    at = page["first_ms"]
    stamp = f'{{"timestamp":{{"long":{at}}}' if type(at) is int else '{"timestamp":' + long(at)
    return (
        f'{stamp},"pageId":{s(page["page_id"])},"url":{url}'
        f',"sections":{{"array":[{",".join(sections)}]}}}}'
    )


def _goal_metadata(goal: Row, details: Datum) -> str:
    kind = goal["goal_type"]
    if kind == "purchase":
        return (
            f'{{"{NS}.PurchaseMetadata":{{"total":{double(goal["value"])}'
            f',"orderId":{s(details.get("orderId"))},"cartStatus":null}}}}'
        )
    if kind == "lead":
        return (
            f'{{"{NS}.LeadMetaData":{{"topic":{s(details.get("topic"))}'
            f',"leadId":{s(details.get("leadId"))},"value":{double(goal["value"])}}}}}'
        )
    if kind == "serviceActivity":
        return (
            f'{{"{NS}.ServiceActivityMetaData":{{"topic":{s(details.get("topic"))}'
            f',"status":{i(details.get("status"))},"category":{s(details.get("category"))}'
            f',"serviceId":{s(details.get("serviceId"))}}}}}'
        )
    if kind == "pageViews":
        pages = details.get("pages", details.get("numberOfPages"))
        return f'{{"{NS}.ReduceAbandonmentGoalMetadata":{{"numberOfPages":{i(pages)}}}}}'
    return (
        f'{{"{NS}.IncreaseInteractionGoalMetadata":{{"engagement":{s(goal["engagement_id"])}'
        f',"campaign":{s(goal["campaign_id"])}}}}}'
    )


def _goal(goal: Row) -> str:
    details = goal["details"] or {}
    # A uuid, as documented; derived from the row so re-exports give the same one.
    found = uuid.uuid5(uuid.NAMESPACE_URL, f"sdehub:{goal['account_id']}:{goal['id']}")
    return (
        f'{{"id":{{"string":"{found}"}},"timestamp":{_stamp(goal["reached_ms"])}'
        f',"campaignGoalId":{s(goal["goal_id"])}'
        f',"campaignGoalRevision":{i(details.get("revision"))}'
        f',"campaignGoalType":{i(GOAL_TYPES.get(goal["goal_type"]))}'
        f',"goalMetaData":{_goal_metadata(goal, details)}}}'
    )


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
                    data = seen[key] = _data(wire, bool(auth), payload)
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
            piece(",".join([_page(p) for p in visited]))
            piece(_CLOSING)
            times += [p["first_ms"] for p in visited]
        if visit in goals:
            reached = goals[visit]
            if len(line) > 2:
                piece(",")
            piece(_GOALS[0] + head + _GOALS[1])
            piece(",".join([_goal(g) for g in reached]))
            piece(_CLOSING)
            times += [g["reached_ms"] for g in reached]
        piece("]}}")
        line[1] = _span(times)
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
    message_id = _esc(cid)[:-1] + ":"  # the messageId's JSON string, but its sequence and quote
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
            text = '{"string":' + _esc(text) + "}"
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


def _stamp(value: Any) -> str:
    return '{"long":' + str(value) + "}" if type(value) is int else long(value)


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
    first_agent = _stamp(agents[0]["joined_ms"]) if agents else NULL
    kind = "MESSAGING" if conv["channel_type"] == "MESSAGING" else "LIVE_CHAT"
    skills, skill = shared.skill(conv["skill_id"])
    created, closed = conv["created_ms"], conv["closed_ms"]
    created_text = _stamp(created)
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
        f',"conversationEndTime":{_stamp(closed)},"consumerId":{s(conv["consumer_id"])}'
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
