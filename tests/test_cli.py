"""The command line, the seed file and the demo generator."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from sdehub import cli
from sdehub.clock import ManualClock
from sdehub.demo import populate
from sdehub.settings import SETTINGS, Settings
from sdehub.workspace import build, snapshot
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.anyio


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    return result


def test_settings_lists_every_setting() -> None:
    result = run("settings")
    assert result.exit_code == 0
    for setting in SETTINGS:
        assert f"SDEHUB_{setting.name.upper()}" in result.output


def test_no_command_means_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []
    monkeypatch.setattr(cli, "run_server", seen.append)
    assert run("--port", "9123", "--emulator", "--setting", "log_level", "DEBUG").exit_code == 0
    assert run().exit_code == 0
    assert (seen[0].port, seen[0].emulator, seen[0].log_level) == (9123, True, "DEBUG")
    assert (seen[1].port, seen[1].emulator) == (8080, False)


def test_environment_then_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []
    monkeypatch.setattr(cli, "run_server", seen.append)
    monkeypatch.setenv("SDEHUB_PORT", "7000")
    monkeypatch.setenv("SDEHUB_APP_RATE_LIMIT", "5/second")
    run("serve")
    run("serve", "--port", "7001")
    assert (seen[0].port, seen[0].app_rate_limit) == (7000, "5/second")
    assert seen[1].port == 7001


def test_bad_settings_are_usage_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    result = run("migrate", "--db", db, "--setting", "nope", "1")
    assert result.exit_code == 2 and "unknown setting 'nope'" in result.output
    result = run("migrate", "--db", db, "--setting", "emulator", "maybe")
    assert result.exit_code == 2 and "expects true or false" in result.output


def test_accounts_apps_agents_and_secrets_are_hashed(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    assert "up to date" in run("migrate", "--db", db).output
    assert run("accounts", "add", "bad id!", "--db", db).exit_code == 2
    assert run("accounts", "add", "4001", "--name", "Acme", "--db", db).exit_code == 0
    result = run("apps", "add", "4001", "generated", "--db", db)
    secret = result.output.split("client_secret: ")[1].split()[0]
    assert len(secret) >= 24
    assert run("apps", "add", "4001", "bad", "--rate-limit", "lots", "--db", db).exit_code == 2
    run("apps", "add", "4001", "given", "--secret", "plain-secret-1", "--db", db)
    run("agents", "add", "4001", "alice", "--password", "pw-alice", "--db", db)
    listing = run("apps", "list", "4001", "--db", db).output
    assert "generated" in listing and "given" in listing and "plain-secret-1" not in listing
    assert "4001\tAcme" in run("accounts", "list", "--db", db).output
    raw = Path(db).read_bytes() + Path(db + "-wal").read_bytes() if Path(db + "-wal").exists() \
        else Path(db).read_bytes()  # fmt: skip
    assert b"plain-secret-1" not in raw and secret.encode() not in raw and b"pw-alice" not in raw


def test_idp_add_takes_pem_or_jwks(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    db = str(tmp_path / "idp.db")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    result = run("idp", "add", "4002", str(pem), "--issuer", "https://id.example", "--db", db,
                 "--setting", "emulator", "true")  # fmt: skip
    assert result.exit_code == 0 and "brand-1" in result.output
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"kty": "nonsense"}')
    assert run("idp", "add", "4002", str(bogus), "--db", db).exit_code == 2
    # Without emulator mode the account must exist.
    result = run("idp", "add", "unknown", str(pem), "--db", db)
    assert result.exit_code == 1 and "not configured" in result.output


def test_get_prints_the_body_and_fails_on_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "get.db")
    ok = run("get", "/api/sde/schema/lead", "--db", db)
    assert ok.exit_code == 0 and json.loads(ok.output)["title"] == "Lead"
    missing = run("get", "/api/sde/schema/nope", "--db", db)
    assert missing.exit_code == 1 and "unknown SDE type" in missing.output


async def test_seed_file_configures_accounts(make_harness: HarnessFactory, tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": [{
        "id": "4003", "name": "Seeded",
        "apps": [{"client_id": "seeded-app", "client_secret": "seeded-secret",
                  "rate_limit": "2/minute"}],
        "agents": [{"login": "sam", "password": "sam-pw"}],
    }]}))  # fmt: skip
    async with make_harness(emulator=False, seed_file=str(seed)) as h:
        token = await h.app_jwt("4003", "seeded-app", "seeded-secret")
        assert token
        r = await h.client.post("/sentinel/api/account/4003/app/token?v=1.0&grant_type=client_"
                                "credentials", data={"client_id": "seeded-app",
                                                     "client_secret": "wrong"})  # fmt: skip
        assert r.status_code == 401
        assert await h.agent("4003", "sam", "sam-pw")
        app = await h.svc.accounts.app("4003", "seeded-app")
        assert app is not None and app.rate_limit == "2/minute"


def _dump(model: dict[str, Any]) -> str:
    return msgspec.json.encode(model).decode()


async def test_demo_data_is_deterministic_and_covers_every_type(tmp_path: Path) -> None:
    from sdehub.services import Services

    dumps = []
    for n in range(2):
        clock = ManualClock(1_767_225_600_000)
        svc = Services.build(Settings(db=str(tmp_path / f"demo{n}.db")), clock)
        svc.db.migrate()
        svc.db.start()
        try:
            data = await populate(svc, clock, conversations=4)
            models = [build(await snapshot(svc.db, data.account_id, c, None))
                      for c in data.conversations]  # fmt: skip
        finally:
            await svc.db.close()
        dumps.append([_dump(m) for m in models])
        sde = models[1]["SDE"]
        for key in (
            "customerDetails",
            "personalInfo",
            "marketingSource",
            "leadGeneration",
            "transaction",
            "viewedProducts",
            "shoppingCart",
            "serviceActivity",
            "error",
        ):
            assert sde[key], key
        assert sde["searchContent"]["keywords"]
        assert len(data.open_conversations) == 2
    assert dumps[0] == dumps[1]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'demo0.db'}")
    with engine.connect() as conn:
        kinds = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT source FROM sde_events")}
    engine.dispose()
    # The sales at the end (sdehub.demo_sales) go through the Monitoring API and the agent survey.
    assert kinds == {"webtag", "connector", "monitoring", "agent"}


def test_demo_banner_is_a_runnable_flow() -> None:
    text = cli.demo_banner("http://h:1", "A", "c", "s", "agent", "pw", "conv-1")
    assert "client_id=c -d client_secret=s" in text
    assert '"brandId":"A"' in text
    assert "/api/account/A/agent-workspace/conversations/conv-1/public-model" in text
    assert "{account}" not in text and "{pick" not in text


def test_agents_add_sets_skills_of_the_catalog(tmp_path: Path) -> None:
    db = str(tmp_path / "skills.db")
    run("accounts", "add", "4003", "--db", db)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"skills": [{"id": 11, "name": "Sales"}]}))
    assert run("campaigns", "import", "4003", str(catalog), "--db", db).exit_code == 0
    result = run("agents", "add", "4003", "ann", "--password", "pw", "--skill", "11", "--db", db)
    assert result.exit_code == 0 and "with skills 11" in result.output
    result = run("agents", "add", "4003", "bob", "--password", "pw", "--skill", "99", "--db", db)
    assert result.exit_code == 1 and "no skill '99'" in result.output


def test_the_server_process_tunes_the_garbage_collector() -> None:
    before = gc.get_threshold()
    try:
        cli.tune_gc()
        assert gc.get_threshold() == cli.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what existed at startup is out of the collections
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
