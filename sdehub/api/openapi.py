"""The OpenAPI 3.1 document, generated from the operations and their msgspec types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from sdehub.api.routing import Operation

_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def document(operations: Sequence[Operation], *, version: str) -> dict[str, Any]:
    types: list[Any] = []
    for op in operations:
        if op.body is not None:
            types.append(op.body)
        types.extend(r.type for r in op.responses.values() if r.type is not None)
    refs, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    schema_of = iter(refs)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "operationId": _operation_id(op),
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(op),
        }
        if op.description:
            item["description"] = op.description
        if op.body is not None:
            item["requestBody"] = {
                "required": op.body_required,
                "content": {op.body_media: {"schema": next(schema_of)}},
            }
        responses: dict[str, Any] = {}
        for status, resp in sorted(op.responses.items()):
            entry: dict[str, Any] = {"description": resp.description}
            if resp.type is not None:
                entry["content"] = {resp.media: {"schema": next(schema_of)}}
            if resp.headers:
                entry["headers"] = {h: {"schema": {"type": "string"}} for h in resp.headers}
            responses[str(status)] = entry
        item["responses"] = responses
        if op.security:
            item["security"] = [{name: []} for name in op.security]
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sdehub",
            "version": version,
            "description": "LivePerson's Engagement Attributes APIs, on one server.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "agentBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The bearer from the agent login.",
                },
                "oauth1": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "OAuth 1.0 HMAC-SHA1 signed request (sdehub apikeys add).",
                },
            },
        },
    }


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[{}]", "", op.path).replace(".", "_").split("/")
    return op.method.lower() + "".join(w[:1].upper() + w[1:] for w in words if w)


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    for p in op.params:
        entry: dict[str, Any] = {
            "name": p.name,
            "in": p.where,
            "required": p.required,
            "schema": msgspec.json.schema(p.type),
        }
        if p.description:
            entry["description"] = p.description
        params.append(entry)
    return params
