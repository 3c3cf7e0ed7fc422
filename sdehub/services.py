"""The services one app is made of, built once by :func:`sdehub.app.create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from sdehub.accounts import Accounts
from sdehub.agents import Agents
from sdehub.apikeys import ApiKeys
from sdehub.campaigns import Catalogs
from sdehub.channels import Backend, Changes, Channels, MemoryBackend
from sdehub.channels_redis import RedisBackend
from sdehub.clock import Clock
from sdehub.identity import BrandIdentity
from sdehub.ingest import HOUR_MS, Quarantine
from sdehub.keys import KeyRing
from sdehub.messaging import Messaging
from sdehub.metrics import Metrics
from sdehub.monitoring import Monitoring
from sdehub.outcomes import Outcomes
from sdehub.ratelimit import RateLimiter
from sdehub.reports import Reports
from sdehub.settings import Settings, SettingsError
from sdehub.store import Database
from sdehub.surveys import AgentSurveys
from sdehub.tokens import Tokens
from sdehub.widgets import Widgets


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    metrics: Metrics
    accounts: Accounts
    keys: KeyRing
    tokens: Tokens
    identity: BrandIdentity
    quarantine: Quarantine
    messaging: Messaging
    monitoring: Monitoring
    catalogs: Catalogs
    limiter: RateLimiter
    apikeys: ApiKeys
    surveys: AgentSurveys
    channels: Channels
    agents: Agents
    outcomes: Outcomes
    reports: Reports
    widgets: Widgets

    @classmethod
    def build(cls, settings: Settings, clock: Clock) -> Services:
        db = Database(settings.database_url)
        metrics = Metrics()
        db.on_commit = metrics.on_commit
        keys = KeyRing(db, clock)
        accounts = Accounts(db, clock, emulator=settings.emulator)
        channels = Channels(channels_backend(settings))
        changes = Changes(channels)
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            metrics=metrics,
            accounts=accounts,
            keys=keys,
            tokens=Tokens(keys, clock, app_jwt_ttl=settings.app_jwt_ttl),
            identity=BrandIdentity(
                db, clock, window_ms=settings.attribution_hours * HOUR_MS, changes=changes
            ),
            quarantine=Quarantine(db, clock, on_keep=metrics.on_quarantine),
            messaging=Messaging(
                db, clock, attribution_hours=settings.attribution_hours, changes=changes
            ),
            monitoring=Monitoring(
                db,
                clock,
                session_hours=settings.monitoring_session_hours,
                attribution_hours=settings.attribution_hours,
                changes=changes,
            ),
            catalogs=Catalogs(db, clock),
            limiter=RateLimiter(settings.app_rate_limit),
            apikeys=ApiKeys(db, clock, accounts, emulator=settings.emulator),
            surveys=AgentSurveys(
                db, clock, window_ms=settings.attribution_hours * HOUR_MS, changes=changes
            ),
            channels=channels,
            agents=Agents(db, clock, changes),
            outcomes=Outcomes(
                db, clock, window_ms=settings.attribution_hours * HOUR_MS, changes=changes
            ),
            reports=Reports(db, clock),
            widgets=Widgets(db, clock),
        )


def channels_backend(settings: Settings) -> Backend:
    url = settings.channels_url.strip()
    if not url:
        return MemoryBackend()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBackend(url, settings.channels_prefix)
    raise SettingsError(f"channels_url {url!r} is not empty nor a redis:// URL")
