"""Login Service API (agentVep): agent login, refresh and logout.

``POST /api/account/{id}/login?v=1.3`` with ``{username, password}`` answers the documented body
(``csrf``, ``wsuk``, ``config``, ``csdsCollectionResponse``, ``accountData``, ``sessionTTl`` as a
string, and ``bearer`` last) and sets the ``Session_id`` cookie that refresh and logout expect
together with the ``csrf``. The bearer authorises the agent-facing APIs (public model, history).
Errors use this service's body: ``{"error": {time, message, internalCode, responseStatus}}``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import UnknownAccount
from sdehub.api.csds import SERVICES, BaseURI, BaseURIs, Domains
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, SdehubError, Unauthorized
from sdehub.model.validation import validate
from sdehub.services import Services

CSRF_INVALID = 10
BAD_LOGIN = 1


class LoginRequest(msgspec.Struct, kw_only=True):
    username: str
    password: str | None = None
    appKey: str | None = None


class CsrfRequest(msgspec.Struct):
    csrf: str


class LoginConfig(msgspec.Struct, kw_only=True):
    loginName: str
    userId: str
    userPrivileges: list[int]
    serverCurrentTime: int
    timeDiff: int
    serverTimeZoneName: str
    serverTimeGMTDiff: int
    isLPA: bool
    isAdmin: bool
    accountTimeZoneId: str


class AgentGroup(msgspec.Struct):
    id: int
    deleted: bool
    name: str


class AgentGroups(msgspec.Struct):
    items: list[AgentGroup]
    revision: int


class AccountData(msgspec.Struct):
    agentGroupsData: AgentGroups


class LoginResponse(msgspec.Struct, kw_only=True):
    csrf: str
    wsuk: str
    config: LoginConfig
    csdsCollectionResponse: BaseURIs
    accountData: AccountData
    sessionTTl: str
    bearer: str


class LoginErrorDetail(msgspec.Struct):
    time: str
    message: str
    internalCode: int
    responseStatus: str


class LoginError(msgspec.Struct):
    error: LoginErrorDetail


def render_login_error(exc: SdehubError, request: Request) -> Response:
    status = {400: "BAD_REQUEST", 401: "UNAUTHORIZED"}.get(exc.status, "INTERNAL_SERVER_ERROR")
    now = datetime.now(UTC).strftime("%b %d, %Y %I:%M:%S %p")
    detail = LoginErrorDetail(now, exc.message, exc.lp_code or exc.status, status)
    return JSON(LoginError(detail), status_code=exc.status)


class AgentVep:
    def __init__(self, svc: Services, domains: Domains) -> None:
        self.svc = svc
        self.domains = domains

    async def login(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        parsed, errors = validate(decode_json(await request.body()), LoginRequest)
        if parsed is None:
            raise BadRequest.from_errors(errors)
        if parsed.password is None:
            raise BadRequest(
                "application (API key) login is not available; log in with username and password"
            )
        ttl = self.svc.settings.agent_session_ttl
        try:
            user, session = await self.svc.accounts.login(
                account_id, parsed.username, parsed.password, ttl
            )
        except UnknownAccount as exc:
            raise Unauthorized(exc.message, lp_code=BAD_LOGIN) from None
        except Unauthorized as exc:
            raise Unauthorized(exc.message, lp_code=BAD_LOGIN) from None
        bearer = await self.svc.tokens.agent_bearer(
            account_id, user.user_id, user.login_name, session.session_id, session.expires_ms
        )
        now = self.svc.clock.now_ms()
        body = LoginResponse(
            csrf=session.csrf,
            wsuk=str(secrets.randbelow(10**12)),
            config=LoginConfig(
                loginName=user.login_name,
                userId=user.user_id,
                userPrivileges=[],
                serverCurrentTime=now,
                timeDiff=0,
                serverTimeZoneName="UTC",
                serverTimeGMTDiff=0,
                isLPA=False,
                isAdmin=False,
                accountTimeZoneId="UTC",
            ),
            csdsCollectionResponse=BaseURIs(
                [BaseURI(s, account_id, self.domains.host_for(s, request)) for s in SERVICES]
            ),
            accountData=AccountData(AgentGroups([AgentGroup(-1, False, "Main Group")], 1)),
            sessionTTl=str(ttl * 1000),
            bearer=bearer,
        )
        response = JSON(body)
        response.set_cookie(
            "Session_id",
            session.session_id,
            max_age=ttl,
            httponly=True,
            samesite="lax",
            path=f"/api/account/{account_id}",
        )
        return response

    async def _session(self, request: Request) -> tuple[str, str]:
        account_id = request.path_params["accountId"]
        parsed, _ = validate(decode_json(await request.body()), CsrfRequest)
        session_id = request.cookies.get("Session_id")
        session = await self.svc.accounts.session(account_id, session_id) if session_id else None
        if (
            parsed is None
            or session is None
            or session.revoked
            or session.expires_ms <= self.svc.clock.now_ms()
            or not secrets.compare_digest(session.csrf, parsed.csrf)
        ):
            raise Unauthorized(
                "CSRF token invalid or session ended: the CSRF token on the "
                "request does not match the session",
                lp_code=CSRF_INVALID,
            )
        return account_id, session.session_id

    async def refresh(self, request: Request) -> Response:
        account_id, session_id = await self._session(request)
        await self.svc.accounts.refresh(account_id, session_id, self.svc.settings.agent_session_ttl)
        return Response(status_code=200)

    async def logout(self, request: Request) -> Response:
        account_id, session_id = await self._session(request)
        await self.svc.accounts.logout(account_id, session_id)
        return Response(status_code=200)

    def operations(self) -> list[Operation]:
        g = guarded(render_login_error)
        errors = {
            400: Resp("Invalid body.", LoginError),
            401: Resp("Wrong credentials, unknown account, or invalid csrf.", LoginError),
        }
        cookie = Param("Session_id", str, True, "The cookie set by login.", "cookie")
        return [
            Operation(
                "POST",
                "/api/account/{accountId}/login",
                g(self.login),
                "Agent login",
                "agentVep",
                {
                    200: Resp("A session: bearer, csrf and the Session_id cookie.", LoginResponse),
                    **errors,
                },
                params=(Param("v", str, False, "1.3"),),
                body=LoginRequest,
            ),
            Operation(
                "POST",
                "/api/account/{accountId}/refresh",
                g(self.refresh),
                "Keep a login session alive",
                "agentVep",
                {200: Resp("Refreshed (empty body).", None), **errors},
                params=(cookie,),
                body=CsrfRequest,
            ),
            Operation(
                "POST",
                "/api/account/{accountId}/logout",
                g(self.logout),
                "Log out",
                "agentVep",
                {200: Resp("Logged out (empty body).", None), **errors},
                params=(cookie,),
                body=CsrfRequest,
            ),
        ]
