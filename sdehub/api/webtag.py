"""The web tag (``GET /tag.js``) and the demo shop that uses it (``GET /demo/shop``).

The tag is one static file, the same bytes for every account: it reads the account and the app
installation from its own ``src`` query string, so every copy caches under one ETag. The demo shop
is a handful of pages around one HTML shell and a script; it is served in emulator mode only (a
configured server has no business serving a demo store), and its catalog is the demo data's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from string import Template
from typing import Final

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sdehub.accounts import valid_account_id
from sdehub.api.common import ErrorBody, render_error
from sdehub.api.routing import Operation, Param, Resp, guarded
from sdehub.demo import ACCOUNT as DEMO_ACCOUNT
from sdehub.demo import CATALOG, SHOP_APP
from sdehub.errors import BadRequest, NotFound
from sdehub.model.validation import FieldError
from sdehub.services import Services

JS: Final = "text/javascript; charset=utf-8"
# Short enough for a tag fix to reach every site within minutes; the ETag makes rechecks cheap.
TAG_CACHE: Final = "public, max-age=300"
SHOP_PAGES: Final = {"cart": "cart", "search": "search", "login": "login", "thanks": "thanks"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str

    @classmethod
    def load(cls, name: str) -> Asset:
        body = files("sdehub").joinpath("static", name).read_bytes()
        return cls(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:20]}"')

    def response(self, request: Request, media_type: str, cache: str) -> Response:
        headers = {"ETag": self.etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=media_type, headers=headers)


class ShopProduct(msgspec.Struct):
    name: str
    category: str
    sku: str
    price: float


class ShopConfig(msgspec.Struct, kw_only=True):
    """What the shop's script renders a page from."""

    account: str
    app: str
    page: str
    query: str
    catalog: list[ShopProduct]
    sku: str | None = None


class WebTagApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._tag = Asset.load("tag.js")
        self._shop_js = Asset.load("shop.js")
        self._shop_html = Template(files("sdehub").joinpath("static", "shop.html").read_text())
        self._catalog = [ShopProduct(*item) for item in CATALOG]

    async def tag(self, request: Request) -> Response:
        errors = [
            FieldError(f"$query.{name}", "expected an account / app installation id")
            for name in ("account", "app")
            if not valid_account_id(request.query_params.get(name, ""))
        ]
        if errors:
            raise BadRequest(
                "load the tag as /tag.js?account=ACCOUNT&app=APP_INSTALLATION_ID", errors=errors
            )
        # Script tags do not need CORS; this lets pages load it with crossorigin (for SRI and
        # full error reports).
        response = self._tag.response(request, JS, TAG_CACHE)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    # -- the demo shop -----------------------------------------------------------------------

    def _shop_ids(self, request: Request) -> tuple[str, str, str]:
        if not self.svc.settings.emulator:
            raise NotFound(
                "the demo shop is served in emulator mode only (sdehub demo, sdehub serve "
                "--emulator)"
            )
        account = request.query_params.get("account") or DEMO_ACCOUNT
        app = request.query_params.get("app") or SHOP_APP
        if not (valid_account_id(account) and valid_account_id(app)):
            raise BadRequest(
                "account and app must be ids: letters, digits, '-' and '_'",
                errors=[FieldError("$query.account", "expected an id")],
            )
        given = {
            k: request.query_params[k] for k in ("account", "app") if k in request.query_params
        }
        query = "&".join(f"{k}={v}" for k, v in given.items())
        return account, app, query

    def _page(
        self, request: Request, page: str, sku: str | None = None, status: int = 200
    ) -> Response:
        account, app, query = self._shop_ids(request)
        config = ShopConfig(
            account=account, app=app, page=page, query=query, catalog=self._catalog, sku=sku
        )
        # JSON inside <script>: "<" escaped so no value can close the element.
        data = msgspec.json.encode(config).decode().replace("<", "\\u003c")
        html = self._shop_html.substitute(config=data, account=account, app=app)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    async def shop(self, request: Request) -> Response:
        return self._page(request, "home")

    async def shop_page(self, request: Request) -> Response:
        page = SHOP_PAGES.get(request.path_params["page"])
        if page is None:
            return self._page(request, "missing", status=404)
        return self._page(request, page)

    async def product(self, request: Request) -> Response:
        sku = request.path_params["sku"]
        if not any(p.sku == sku for p in self._catalog):
            # A page of its own: the shop reports the visitor's error (an `error` SDE).
            return self._page(request, "missing", sku=sku, status=404)
        return self._page(request, "product", sku=sku)

    async def shop_script(self, request: Request) -> Response:
        self._shop_ids(request)
        return self._shop_js.response(request, JS, "no-cache")

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        html = {
            200: Resp("The page.", str, media="text/html"),
            404: Resp("Not in emulator mode, or no such page (the shop's own page).", str,
                      media="text/html"),
        }  # fmt: skip
        shop_params = (
            Param("account", str, False, f"The account (default {DEMO_ACCOUNT})."),
            Param("app", str, False, f"The app installation (default {SHOP_APP})."),
        )
        return [
            Operation(
                "GET",
                "/tag.js",
                g(self.tag),
                "The web tag: lpTag.sdes, lpTag.events, identities, sections, offers",
                "webtag",
                {
                    200: Resp("The tag.", str, media="text/javascript", headers=("ETag",)),
                    304: Resp("Not modified (If-None-Match).", None),
                    400: Resp("account or app missing or malformed.", ErrorBody),
                },
                params=(
                    Param("account", str, True, "The account the tag reports to."),
                    Param("app", str, True, "The app installation id (Monitoring API)."),
                ),
            ),
            Operation(
                "GET", "/demo/shop", g(self.shop), "Demo shop: home", "demo", html,
                params=shop_params,
            ),
            Operation(
                "GET", "/demo/shop/products/{sku}", g(self.product), "Demo shop: a product",
                "demo", html, params=shop_params,
            ),
            Operation(
                "GET", "/demo/shop/{page}", g(self.shop_page),
                "Demo shop: cart, search, login, thanks", "demo", html, params=shop_params,
            ),
            Operation(
                "GET", "/demo/shop.js", g(self.shop_script), "Demo shop: its script", "demo",
                {200: Resp("The script.", str, media="text/javascript")},
            ),
        ]  # fmt: skip
