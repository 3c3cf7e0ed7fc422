"""The request envelopes of CONVERSATION and SEND, decoded from the bytes of a request body.

Canonical bodies are decoded in one msgspec pass; anything that pass refuses goes through the
validator, which tolerates what LivePerson tolerates and names every error with its path
(``tests/test_connector_decoding.py`` checks both ways agree). Both the API edge and the writer
process decode with these: the writer receives the body as it arrived, which costs less to send
across than the decoded objects. The rules that span requests (the order of a CONVERSATION batch)
or tie one field to another (a content event's message and its content type) are here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from sdehub.bodies import decode_json
from sdehub.errors import BadRequest
from sdehub.model.messaging import (
    BODY_TYPES,
    AcceptStatusEvent,
    ContentEvent,
    ConversationRequest,
    Envelope,
    HostedFileMessage,
    PublishEvent,
    RichContentEvent,
    TypedRequest,
    UpdateConversationField,
    UserProfile,
)
from sdehub.model.sdes import authenticated_problems
from sdehub.model.validation import FieldError, Path, describe, format_path, one_pass, validate

MAX_BATCH = 50
Body = UserProfile | ConversationRequest | PublishEvent | UpdateConversationField


@dataclass(frozen=True)
class Item:
    """One request of a batch, already validated; ``path`` locates it in the request body."""

    req_id: str | int
    body: Body
    path: Path = ()


_typed_one = msgspec.json.Decoder(TypedRequest)
_typed_many = msgspec.json.Decoder(list[TypedRequest])


def checked(req_id: str | int, body: Any, path: Path, errors: list[FieldError]) -> Item | None:
    """What the types cannot say: the id's length, the store fields of authenticated SDEs."""
    if isinstance(req_id, str) and not 1 <= len(req_id) <= 64:
        errors.append(FieldError(format_path((*path, "id")), "expected 1 to 64 characters"))
        return None
    if isinstance(body, UserProfile) and body.authenticatedData and body.authenticatedData.lp_sdes:
        sdes_path = (*path, "body", "authenticatedData", "lp_sdes")
        before = len(errors)
        for i, sde in enumerate(body.authenticatedData.lp_sdes):
            errors.extend(authenticated_problems(sde, (*sdes_path, i)))
        if len(errors) > before:
            return None
    return Item(req_id=req_id, body=body, path=path)


def decode_item(raw: Any, path: Path, errors: list[FieldError]) -> Item | None:
    """One ``{kind, id, type, body}`` request, its body typed by ``type``."""
    envelope, problems = validate(raw, Envelope, path)
    if envelope is None:
        errors.extend(problems)
        return None
    body_raw = envelope.body
    if body_raw is None and envelope.type == "userprofile.SetUserProfile":
        body_raw = {}
    if body_raw is None:
        errors.append(FieldError(format_path((*path, "body")), "is required"))
        return None
    body, problems = validate(body_raw, BODY_TYPES[envelope.type], (*path, "body"))
    if body is None:
        errors.extend(problems)
        return None
    return checked(envelope.id, body, path, errors)


def _fast(decoder: msgspec.json.Decoder[Any], body: bytes) -> Any:
    """The one-pass decoding, or None when the validator must look."""
    return one_pass(decoder, body)


def decode_batch(body: bytes) -> list[Item]:
    """The CONVERSATION batch: a JSON array of requests."""
    errors: list[FieldError] = []
    typed = _fast(_typed_many, body)
    if typed is not None and len(typed) <= MAX_BATCH:
        items = [checked(r.id, r.body, (i,), errors) for i, r in enumerate(typed)]
    else:
        raw = decode_json(body)
        if not isinstance(raw, list):
            raise BadRequest.from_errors(
                [FieldError("$", "expected an array of requests (the CONVERSATION batch), "
                                 f"got {describe(raw)}")]
            )  # fmt: skip
        if len(raw) > MAX_BATCH:
            raise BadRequest.from_errors(
                [FieldError("$", f"at most {MAX_BATCH} requests per batch")]
            )
        items = [decode_item(r, (i,), errors) for i, r in enumerate(raw)]
    if errors:
        raise BadRequest.from_errors(errors)
    return [i for i in items if i is not None]


def decode_single(body: bytes) -> Item:
    """A SEND request: one JSON object."""
    errors: list[FieldError] = []
    typed = _fast(_typed_one, body)
    if typed is not None:
        item = checked(typed.id, typed.body, (), errors)
    else:
        raw = decode_json(body)
        if not isinstance(raw, dict):
            raise BadRequest.from_errors(
                [FieldError("$", "expected one request object (SEND is not a batch), "
                                 f"got {describe(raw)}")]
            )  # fmt: skip
        item = decode_item(raw, (), errors)
    if item is None:
        raise BadRequest.from_errors(errors)
    return item


# --- the rules of a batch and of an event, beyond each request's own type -----------------


def check_batch_order(items: list[Item]) -> None:
    """SetUserProfile first, then exactly one ConsumerRequestConversation, then PublishEvents."""
    errors: list[FieldError] = []
    kinds = [type(i.body) for i in items]
    if ConversationRequest not in kinds:
        errors.append(FieldError("$", "the batch needs a cm.ConsumerRequestConversation request"))
    elif kinds.count(ConversationRequest) > 1:
        second = [i for i, k in enumerate(kinds) if k is ConversationRequest][1]
        errors.append(
            FieldError(f"$[{second}].type", "only one cm.ConsumerRequestConversation per batch")
        )
    if UserProfile not in kinds:
        errors.append(
            FieldError(
                "$",
                "the batch needs a userprofile.SetUserProfile request "
                "before cm.ConsumerRequestConversation (its body may be {})",
            )
        )
    if not errors:
        at = kinds.index(ConversationRequest)
        for i, kind in enumerate(kinds):
            if kind is UserProfile and i > at:
                errors.append(
                    FieldError(
                        f"$[{i}].type",
                        "userprofile.SetUserProfile must come "
                        "before cm.ConsumerRequestConversation",
                    )
                )
            elif kind is PublishEvent and i < at:
                errors.append(
                    FieldError(
                        f"$[{i}].type",
                        "ms.PublishEvent must come after cm.ConsumerRequestConversation",
                    )
                )
            elif kind is UpdateConversationField:
                errors.append(
                    FieldError(
                        f"$[{i}].type",
                        "cm.UpdateConversationField is a SEND "
                        "request, not part of the CONVERSATION batch",
                    )
                )
    if errors:
        raise BadRequest.from_errors(errors)


def check_event(event: ContentEvent | RichContentEvent | AcceptStatusEvent, where: Path) -> None:
    """The message of a content event must match its content type."""
    if isinstance(event, ContentEvent):
        if event.contentType == "text/plain":
            if not isinstance(event.message, str) or not event.message:
                raise _bad((*where, "message"), "expected a non-empty string for text/plain")
        elif event.contentType in ("hosted/file", "HostedFile"):
            _, errors = validate(event.message, HostedFileMessage, (*where, "message"))
            if errors:
                raise BadRequest.from_errors(errors)
        elif event.message is None:
            raise _bad((*where, "message"), "is required")
    elif isinstance(event, RichContentEvent):
        if not isinstance(event.content or event.message, dict):
            raise _bad((*where, "content"), "expected the structured content object")


def _bad(path: Path, message: str) -> BadRequest:
    return BadRequest.from_errors([FieldError(format_path(path), message)])
