"""The OpenAPI document covers every route, and its schemas are generated from the types."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from tests.harness import Harness

pytestmark = pytest.mark.anyio


async def test_every_route_is_in_the_openapi_document(h: Harness) -> None:
    r = await h.client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    routes = [route for route in h.app.routes if isinstance(route, Route)]
    assert len(routes) >= 20
    for route in routes:
        for method in route.methods or ():
            if method == "HEAD":
                continue
            assert method.lower() in doc["paths"].get(route.path, {}), (method, route.path)


async def test_operations_declare_responses_params_and_bodies(h: Harness) -> None:
    doc = (await h.client.get("/api/openapi.json")).json()
    conversation = doc["paths"]["/api/account/{accountId}/messaging/consumer/conversation"]["post"]
    assert set(conversation["responses"]) == {"200", "400", "401", "429"}
    names = {p["name"] for p in conversation["parameters"]}
    assert {"accountId", "Authorization", "X-LP-ON-BEHALF", "v"} <= names
    body = conversation["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    envelope = body["items"]["$ref"].rsplit("/", 1)[-1]
    assert set(doc["components"]["schemas"][envelope]["properties"]) >= {"id", "type", "body"}
    quarantine = doc["paths"]["/api/account/{accountId}/quarantine"]["get"]
    assert quarantine["security"] == [{"agentBearer": []}]
    ids = [op["operationId"] for path in doc["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


async def test_every_schema_reference_resolves(h: Harness) -> None:
    doc = (await h.client.get("/api/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                refs.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[-1] in schemas, ref


async def test_health_readiness_and_metrics(h: Harness) -> None:
    assert (await h.client.get("/healthz")).json() == {"status": "ok"}
    assert (await h.client.get("/readyz")).json() == {"status": "ready"}
    await h.connector()
    headers = await h.connector(ext_id="m")
    await h.post_conversation(headers, [{"bad": "request"}])
    text = (await h.client.get("/metrics")).text
    assert 'sdehub_requests_total{method="POST",route="/api/account/{accountId}/consumer",' \
           'status="201"} 2.0' in text  # fmt: skip
    assert 'sdehub_quarantined_total{api="connector.conversation"} 1.0' in text
    assert "sdehub_commit_batch_size_count" in text


async def test_request_id_is_echoed_or_made(h: Harness) -> None:
    r = await h.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await h.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"
    assert len(r.headers["x-request-id"]) == 32
