"""Request and reply types of the consumer messaging protocol (Connector API CONVERSATION / SEND).

The requests are the Messaging Window API's ``{kind, id, type, body}`` envelopes. Where the
documentation and real clients disagree, both forms are accepted: request ids as strings or
numbers (echoed back exactly as sent), ``conversationField`` as an object or a one-element array,
campaign ids as strings or numbers, rich content under ``content`` or ``message``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from sdehub.model.types import AuthenticatedSDE

Str64 = Annotated[str, Meta(max_length=64)]
Str256 = Annotated[str, Meta(max_length=256)]
Url = Annotated[str, Meta(max_length=2048)]


class Base(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


# --- userprofile.SetUserProfile ------------------------------------------------------------


class AuthenticatedData(Base):
    """Only Customer Info and Personal Info are accepted here (authenticated SDEs)."""

    lp_sdes: list[AuthenticatedSDE] | None = None


class PushNotificationData(Base):
    serviceName: Str256 | None = None
    certName: Str256 | None = None
    token: Annotated[str, Meta(max_length=4096)] | None = None


class PrivateData(Base):
    mobileNum: Str256 | None = None
    mail: Str256 | None = None
    pushNotificationData: PushNotificationData | None = None


class UserProfile(Base):
    """The body of ``userprofile.SetUserProfile``; every field is optional (``{}`` is valid)."""

    firstName: Str256 | None = None
    lastName: Str256 | None = None
    userId: Str256 | None = None
    avatarUrl: Url | None = None
    role: Str256 | None = None
    backgndImgUri: Url | None = None
    description: Annotated[str, Meta(max_length=4096)] | None = None
    privateData: PrivateData | None = None
    authenticatedData: AuthenticatedData | None = None


# --- cm.ConsumerRequestConversation --------------------------------------------------------


class CampaignInfo(Base):
    # Strings in the Connector API docs, numbers in the Messaging Window tutorial.
    campaignId: Str64 | None = None
    engagementId: Str64 | None = None


class ConversationContext(Base):
    visitorId: Str256 | None = None
    sessionId: Str256 | None = None
    interactionContextId: Str64 | None = None
    type: Str64 | None = None
    lang: Str64 | None = None
    clientProperties: dict[str, Any] | None = None


TTR = Literal["NORMAL", "URGENT", "PRIORITIZED", "CUSTOM"]


class ConversationRequest(Base):
    """The body of ``cm.ConsumerRequestConversation``."""

    brandId: Str64
    channelType: Literal["MESSAGING"] | None = None
    ttrDefName: TTR | None = None
    skillId: Str64 | None = None
    campaignInfo: CampaignInfo | None = None
    conversationContext: ConversationContext | None = None
    conversationHeader: dict[str, Any] | None = None


# --- ms.PublishEvent -----------------------------------------------------------------------

FileType = Literal["IMG", "JPG", "JPEG", "PNG", "GIF", "TXT", "PDF"]


class HostedFileMessage(Base):
    relativePath: Annotated[str, Meta(min_length=1, max_length=2048)]
    fileType: FileType
    caption: Annotated[str, Meta(max_length=4096)] | None = None
    preview: Any = None


class ContentEvent(Base, tag="ContentEvent", tag_field="type"):
    """A message: ``text/plain`` carries a string, ``hosted/file`` a file reference."""

    contentType: Str64 = "text/plain"
    message: Any = None
    quickReplies: Any = None


class RichContentEvent(Base, tag="RichContentEvent", tag_field="type"):
    """Structured content; real clients send the card as ``content``, the schema as ``message``."""

    content: Any = None
    message: Any = None
    quickReplies: Any = None


ChatState = Literal["ACTIVE", "INACTIVE", "GONE", "COMPOSING", "PAUSE"]


class ChatStateEvent(Base, tag="ChatStateEvent", tag_field="type"):
    chatState: ChatState


AcceptStatus = Literal["ACCEPT", "READ", "ACCESS", "NACK", "ACTION"]


class AcceptStatusEvent(Base, tag="AcceptStatusEvent", tag_field="type"):
    status: AcceptStatus
    sequenceList: list[Annotated[int, Meta(ge=0)]]


MessagingEvent = ContentEvent | RichContentEvent | ChatStateEvent | AcceptStatusEvent


class PublishEvent(Base):
    """The body of ``ms.PublishEvent``. For the main dialog, ``dialogId`` is the conversation id."""

    event: MessagingEvent
    dialogId: Str64 | None = None
    conversationId: Str64 | None = None


# --- cm.UpdateConversationField ------------------------------------------------------------


class StateChange(Base, tag="ConversationStateField", tag_field="field"):
    conversationState: Literal["CLOSE"]


class TTRChange(Base, tag="TTRField", tag_field="field"):
    ttrType: TTR = "NORMAL"
    value: Annotated[int, Meta(ge=0)] | None = None


class CsatChange(Base, tag="CSATRate", tag_field="field"):
    csatRate: Annotated[int, Meta(ge=1, le=5)]
    csatResolutionConfirmation: bool | None = None
    status: Literal["FILLED", "PARTIALLY_FILLED", "SKIPPED"] | None = None


class SkillChange(Base, tag="Skill", tag_field="field"):
    skill: Str64
    type: Literal["UPDATE"] = "UPDATE"


ConversationField = StateChange | TTRChange | CsatChange | SkillChange


class UpdateConversationField(Base):
    """The body of ``cm.UpdateConversationField``; the field may be an object or an array."""

    conversationId: Str64
    conversationField: ConversationField | list[ConversationField]

    def fields(self) -> list[ConversationField]:
        f = self.conversationField
        return list(f) if isinstance(f, list) else [f]


# --- the envelope --------------------------------------------------------------------------

RequestType = Literal[
    "userprofile.SetUserProfile",
    "cm.ConsumerRequestConversation",
    "ms.PublishEvent",
    "cm.UpdateConversationField",
]
BODY_TYPES: Final[dict[str, Any]] = {
    "userprofile.SetUserProfile": UserProfile,
    "cm.ConsumerRequestConversation": ConversationRequest,
    "ms.PublishEvent": PublishEvent,
    "cm.UpdateConversationField": UpdateConversationField,
}


class Envelope(Base):
    """``{kind, id, type, body}``. ``id`` is echoed back exactly as sent, string or number."""

    id: str | int
    type: RequestType
    kind: Literal["req"] = "req"
    body: Any = None


# The same envelopes with the body typed by ``type``, for one-pass decoding by msgspec. They
# accept only canonical input (exact enum case, no numbers as strings ...); anything they refuse
# goes through the validator, which tolerates what LivePerson tolerates and names every error.


class ProfileRequest(Base, tag="userprofile.SetUserProfile", tag_field="type"):
    id: str | int
    kind: Literal["req"] = "req"
    body: UserProfile = msgspec.field(default_factory=UserProfile)


class OpenRequest(Base, tag="cm.ConsumerRequestConversation", tag_field="type"):
    id: str | int
    body: ConversationRequest
    kind: Literal["req"] = "req"


class PublishRequest(Base, tag="ms.PublishEvent", tag_field="type"):
    id: str | int
    body: PublishEvent
    kind: Literal["req"] = "req"


class UpdateFieldRequest(Base, tag="cm.UpdateConversationField", tag_field="type"):
    id: str | int
    body: UpdateConversationField
    kind: Literal["req"] = "req"


TypedRequest = ProfileRequest | OpenRequest | PublishRequest | UpdateFieldRequest


# --- replies -------------------------------------------------------------------------------


class Reply(msgspec.Struct, kw_only=True):
    """A reply item in the order the Connector API documents for CONVERSATION."""

    code: str = "OK"
    body: Any
    reqId: str | int


class SendReply(msgspec.Struct, kw_only=True):
    """A SEND reply, in the documented key order."""

    reqId: str | int
    code: str = "OK"
    body: Any


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    title: str
    details: str
    errorCode: int
    errors: list[dict[str, str]] | None = None


class ErrorReply(msgspec.Struct, kw_only=True):
    """The Send API error envelope (``.ReqBody$ErrorResp``)."""

    kind: str = "resp"
    code: int
    body: ErrorBody
    type: str = ".ReqBody$ErrorResp"


PROFILE_OK: Final = {"msg": "OK User Profile set successfully"}
