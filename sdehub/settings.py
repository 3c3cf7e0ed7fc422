"""One table of settings. Each has a type, a default and a help line; each can be set from the
environment as ``SDEHUB_<NAME>`` (upper case) or on the command line with ``--setting name value``.
``docs/settings.md`` documents every one of them (a test checks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

ENV_PREFIX: Final = "SDEHUB_"


class Setting(NamedTuple):
    name: str
    type: type
    default: Any
    help: str


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("host", str, "127.0.0.1", "Interface to listen on."),
    Setting("port", int, 8080, "Port to listen on; every LivePerson service is served on it."),
    Setting(
        "db",
        str,
        "./sdehub.db",
        "SQLite file path, or a SQLAlchemy URL (postgresql+psycopg://...).",
    ),
    Setting(
        "emulator",
        bool,
        False,
        "Provision unknown accounts, app credentials and agents on first use.",
    ),
    Setting(
        "public_host",
        str,
        "",
        "Host (and port) the Domain API hands out; empty means the host the client used.",
    ),
    Setting(
        "service_hosts",
        str,
        "",
        "Per-service host overrides for the Domain API: 'smt=a.example,idp=b.example'.",
    ),
    Setting(
        "app_rate_limit",
        str,
        "100/second",
        "Default request rate per app installation on the Connector API ('limits' syntax).",
    ),
    Setting("app_jwt_ttl", int, 3600, "Lifetime of an AppJWT in seconds (LivePerson: 1 hour)."),
    Setting(
        "agent_session_ttl",
        int,
        28800,
        "Lifetime of an agent login session in seconds (LivePerson reports 8 hours).",
    ),
    Setting(
        "attribution_hours",
        int,
        12,
        "Messaging attribution window: SDEs this long before a conversation starts or "
        "after it closes belong to it.",
    ),
    Setting(
        "monitoring_session_hours",
        int,
        6,
        "Longest life of a monitor session (visit) from its start (LivePerson: 6 hours).",
    ),
    Setting(
        "channels_url",
        str,
        "",
        "Where workers tell each other what changed (live pushes): empty means in this process "
        "only; 'redis://host:6379/0' shares them between workers through Redis pub/sub.",
    ),
    Setting(
        "channels_prefix",
        str,
        "sdehub:",
        "Prefix of this deployment's Redis channel names (deployments sharing a Redis differ).",
    ),
    Setting("log_format", str, "json", "Request log format: 'json' or 'text'."),
    Setting("log_level", str, "INFO", "Log level: DEBUG, INFO, WARNING or ERROR."),
    Setting("seed_file", str, "", "A JSON file of accounts, apps and agents loaded at start."),
    Setting(
        "export_enabled",
        bool,
        True,
        "Write the Data Access files of every closed hour in the background.",
    ),
    Setting(
        "export_dir",
        str,
        "",
        "Where Data Access files are kept; empty means '<db>.exports' beside the SQLite file "
        "(./sdehub-exports for PostgreSQL).",
    ),
    Setting(
        "export_retention_days",
        int,
        30,
        "Data Access files older than this are deleted (LivePerson: 30 days).",
    ),
)
BY_NAME: Final = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    """A setting has an unknown name or a value of the wrong type."""


def parse(name: str, raw: str) -> Any:
    setting = BY_NAME.get(name)
    if setting is None:
        raise SettingsError(f"unknown setting {name!r}; known: {', '.join(BY_NAME)}")
    if setting.type is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"setting {name!r} expects true or false, got {raw!r}")
    if setting.type is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"setting {name!r} expects an integer, got {raw!r}") from None
    return raw


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "./sdehub.db"
    emulator: bool = False
    public_host: str = ""
    service_hosts: str = ""
    app_rate_limit: str = "100/second"
    app_jwt_ttl: int = 3600
    agent_session_ttl: int = 28800
    attribution_hours: int = 12
    monitoring_session_hours: int = 6
    channels_url: str = ""
    channels_prefix: str = "sdehub:"
    log_format: str = "json"
    log_level: str = "INFO"
    seed_file: str = ""
    export_enabled: bool = True
    export_dir: str = ""
    export_retention_days: int = 30

    @classmethod
    def load(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides (CLI options)."""
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = environ.get(ENV_PREFIX + setting.name.upper())
            if raw is not None:
                values[setting.name] = parse(setting.name, raw)
        for name, value in overrides.items():
            if name not in BY_NAME:
                raise SettingsError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = value
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def database_url(self) -> str:
        if "://" in self.db:
            return self.db
        return f"sqlite+pysqlite:///{self.db}"

    @property
    def export_path(self) -> Path:
        if self.export_dir:
            return Path(self.export_dir)
        if "://" in self.db:
            return Path("sdehub-exports")
        return Path(f"{self.db}.exports")

    def service_host_overrides(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in self.service_hosts.split(","))):
            name, sep, host = part.partition("=")
            if not sep or not name or not host:
                raise SettingsError(f"service_hosts entry {part!r} is not 'service=host'")
            out[name.strip()] = host.strip()
        return out


assert {f.name for f in dataclasses.fields(Settings)} == set(BY_NAME), "settings drift"
