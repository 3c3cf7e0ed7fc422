"""The Data Access API (``/data_access_le``): file lists, file downloads and the Avro schema.

Callers authenticate as for Messaging Interactions: an OAuth 1.0 API key (what LivePerson
documents) or an agent bearer. Errors use the same flat ``{"status", "message"}`` body; an empty
file list is a 404 whose message is ``No Available Files``, the text downloaders look for.
Links are absolute, on the host (and scheme) the client used, as seen through a proxy.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import valid_account_id
from sdehub.api.common import require_agent
from sdehub.api.msghist import HistoryError, render_error
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.apikeys import signed_url
from sdehub.dataaccess import files
from sdehub.dataaccess.scheduler import Exporter
from sdehub.errors import BadRequest, NotFound
from sdehub.model.validation import FieldError
from sdehub.services import Services

PREFIX = "/data_access_le/account/{accountId}/le"
NO_FILES = "No Available Files"


class Link(msgspec.Struct):
    href: str = msgspec.field(name="@href")
    rel: str = msgspec.field(name="@rel")


class BaseResource(msgspec.Struct):
    accountId: str = msgspec.field(name="@accountId")
    link: list[Link]


class BaseAnswer(msgspec.Struct):
    le: BaseResource


class FileInfo(msgspec.Struct):
    name: str = msgspec.field(name="@name")
    scopeStartDate: str = msgspec.field(name="@scopeStartDate")
    scopeEndDate: str = msgspec.field(name="@scopeEndDate")
    href: str = msgspec.field(name="@href")


class FileList(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    link: Link
    file: list[FileInfo]


class FilesAnswer(msgspec.Struct):
    dataAccessFiles: FileList


class ClockAnswer(msgspec.Struct):
    nowMs: int
    exportedHours: list[int]


def origin(request: Request) -> str:
    parts = urlsplit(signed_url(request))
    return f"{parts.scheme}://{parts.netloc}"


def _ms(request: Request, name: str) -> int:
    raw = request.query_params.get(name, "")
    if not raw.isdigit():
        raise BadRequest(
            f"query parameter {name} (epoch milliseconds) is required",
            errors=[FieldError(f"$query.{name}", "expected epoch milliseconds")],
        )
    return int(raw)


class DataAccessApi:
    def __init__(self, svc: Services, exporter: Exporter) -> None:
        self.svc = svc
        self.exporter = exporter

    @property
    def root(self) -> Path:
        return self.exporter.root

    async def _caller(self, request: Request) -> str:
        account_id: str = request.path_params["accountId"]
        if not valid_account_id(account_id):
            # The id names a folder on disk: nothing but a well-formed id gets that far.
            raise NotFound(f"account {account_id!r} is not configured on this server")
        auth = request.headers.get("authorization", "")
        if auth[:6].lower() == "oauth ":
            await self.svc.apikeys.verify(account_id, request)
        else:
            await require_agent(self.svc, request, account_id)
        return account_id

    async def base(self, request: Request) -> Response:
        account_id = await self._caller(request)
        here = origin(request) + PREFIX.format(accountId=account_id)
        links = [Link(here, "self")]
        links += [Link(f"{here}/{resource}", resource) for resource, _ in files.KINDS.values()]
        links.append(Link(f"{here}/schema", "schema"))
        return JSON(BaseAnswer(BaseResource(account_id, links)))

    async def list_files(self, request: Request) -> Response:
        account_id = await self._caller(request)
        resource = request.url.path.rstrip("/").rsplit("/", 1)[1]
        kind = files.BY_RESOURCE[resource]
        start, end = _ms(request, "startTime"), _ms(request, "endTime")
        if end < start:
            raise BadRequest(
                "endTime is before startTime",
                errors=[FieldError("$query.endTime", "must not be before startTime")],
            )
        found = await asyncio.to_thread(files.listing, self.root, account_id, kind, start, end)
        if not found:
            raise NotFound(NO_FILES)
        here = origin(request) + PREFIX.format(accountId=account_id) + f"/{resource}"
        listed = [
            FileInfo(f.name, files.iso(f.start_ms), files.iso(f.end_ms), f"{here}/{f.name}")
            for f in found
        ]
        return JSON(FilesAnswer(FileList(account_id, Link(here, "self"), listed)))

    async def download(self, request: Request) -> Response:
        account_id = await self._caller(request)
        kind = files.BY_RESOURCE.get(request.path_params["resource"])
        name = request.path_params["fileName"]
        path = None if kind is None else files.find(self.root, account_id, kind, name)
        if path is None:
            raise NotFound(f"no file {name}")
        data = await asyncio.to_thread(path.read_bytes)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def schema(self, request: Request) -> Response:
        await self._caller(request)
        wanted = request.query_params.get("schemaId", "latest")
        if wanted not in ("latest", files.SCHEMA_VERSION):
            raise NotFound(f"no schema {wanted!r}; this server has {files.SCHEMA_VERSION}")
        return JSON(files.schema_document())

    async def advance_clock(self, request: Request) -> Response:
        """Emulator mode: move time forward, then export the hours that closed."""
        account_id: str = request.path_params["accountId"]
        advance = getattr(self.svc.clock, "advance", None)
        if not self.svc.settings.emulator or advance is None:
            raise NotFound("the clock can be moved in emulator mode only")
        raw = request.query_params.get("ms", "")
        if not raw.isdigit():
            raise BadRequest(
                "query parameter ms (a non-negative integer) is required",
                errors=[FieldError("$query.ms", "expected milliseconds")],
            )
        await self.svc.accounts.get(account_id)
        advance(int(raw))
        done = await self.exporter.run_once(account_id)
        return JSON(ClockAnswer(self.svc.clock.now_ms(), done.get(account_id, [])))

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        security = ("agentBearer", "oauth1")
        unauthorized = {
            401: Resp("Missing or invalid OAuth 1.0 signature or bearer.", HistoryError)
        }
        window = (
            Param("startTime", int, True, "Files whose hour starts at or after this (epoch ms)."),
            Param("endTime", int, True, "... and before this (epoch ms)."),
        )
        ops = [
            Operation(
                "GET",
                PREFIX,
                g(self.base),
                "Data Access base resource: links to the data types",
                "dataaccess",
                {200: Resp("Links.", BaseAnswer), **unauthorized},
                security=security,
            ),
            Operation(
                "GET",
                f"{PREFIX}/schema",
                g(self.schema),
                "The Avro schema of a file line",
                "dataaccess",
                {
                    200: Resp("An Avro schema (parsing canonical form).", dict[str, Any]),
                    404: Resp("Unknown schemaId.", HistoryError),
                    **unauthorized,
                },
                params=(Param("schemaId", str, False, "latest (default) or 1.0.0.22."),),
                security=security,
            ),
        ]
        for kind, (resource, prefix) in files.KINDS.items():
            ops.append(
                Operation(
                    "GET",
                    f"{PREFIX}/{resource}",
                    g(self.list_files),
                    f"{kind} files of an hour range",
                    "dataaccess",
                    {
                        200: Resp(
                            f"{prefix}.<startMs>.<endMs>.part-00000-0.gz files.", FilesAnswer
                        ),
                        400: Resp("startTime or endTime missing.", HistoryError),
                        404: Resp(f"'{NO_FILES}'.", HistoryError),
                        **unauthorized,
                    },
                    params=window,
                    security=security,
                )
            )
        ops += [
            Operation(
                "GET",
                f"{PREFIX}/{{resource}}/{{fileName}}",
                g(self.download),
                "Download a Data Access file (gzip, one Avro JSON document per line)",
                "dataaccess",
                {
                    200: Resp("The gzip file.", bytes, media="application/octet-stream"),
                    404: Resp("No such file.", HistoryError),
                    **unauthorized,
                },
                security=security,
            ),
            Operation(
                "POST",
                "/api/account/{accountId}/emulator/clock/advance",
                g(self.advance_clock),
                "Emulator: move the clock forward and export the hours that closed",
                "dataaccess",
                {
                    200: Resp("The new time and the hours exported.", ClockAnswer),
                    400: Resp("ms missing.", HistoryError),
                    404: Resp("Not in emulator mode.", HistoryError),
                },
                params=(Param("ms", int, True, "Milliseconds to move forward."),),
                body_required=False,
            ),
        ]
        return ops
