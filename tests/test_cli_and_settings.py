"""The command line and the settings, as a user meets them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hubs_bridge.errors import ConfigError
from hubs_bridge.settings import Settings, load_settings
from tests.conftest import REPO, make_settings
from tests.harness.server_process import run_cli, server_env


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("HUBS_BRIDGE_PORT", "eighty", "HUBS_BRIDGE_PORT"),
        ("HUBS_BRIDGE_LOG_LEVEL", "loud", "HUBS_BRIDGE_LOG_LEVEL"),
        ("HUBS_BRIDGE_HUBS__URL", "hubs.example.org", "HUBS_BRIDGE_HUBS__URL"),
        ("HUBS_BRIDGE_STAFF_TOKEN", "short", "HUBS_BRIDGE_STAFF_TOKEN"),
        # 31 characters: guessable at thousands of tries a second (issue 11).
        ("HUBS_BRIDGE_STAFF_TOKEN", "x" * 31, "at least 32 characters"),
        ("HUBS_BRIDGE_REDIS_PREFIX", "has spaces", "HUBS_BRIDGE_REDIS_PREFIX"),
        # It signs visitor ids: a short key could be found by trying.
        ("HUBS_BRIDGE_SECRET_KEY", "k" * 31, "HUBS_BRIDGE_SECRET_KEY"),
    ],
)
def test_wrong_setting_stops_with_one_line(
    tmp_path: Path, name: str, value: str, needle: str
) -> None:
    result = run_cli(["serve"], server_env(tmp_path, **{name: value}))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "Traceback" not in result.stderr


def test_a_blank_secret_key_is_unset_never_an_empty_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBS_BRIDGE_SECRET_KEY", "")
    settings = Settings(data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.secret_key is None  # generated once and kept in the store instead


def test_secret_in_toml_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('staff_token = "0123456789abcdef0123"\n')
    env = server_env(tmp_path, HUBS_BRIDGE_CONFIG=str(config))
    result = run_cli(["serve"], env)
    assert result.returncode == 2
    assert "HUBS_BRIDGE_STAFF_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_unknown_toml_key(tmp_path: Path) -> None:
    config = tmp_path / "typo.toml"
    config.write_text("prot = 9000\n")
    result = run_cli(["serve"], server_env(tmp_path, HUBS_BRIDGE_CONFIG=str(config)))
    # Named as the file's key, not as a variable nobody set (issue 11).
    assert result.returncode == 2 and f"{config}: prot: unknown setting" in result.stderr


def test_env_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('port = 9001\n[hubs]\nbot_name = "Bot aus Datei"\n')
    monkeypatch.setenv("HUBS_BRIDGE_CONFIG", str(config))
    monkeypatch.setenv("HUBS_BRIDGE_HUBS__BOT_NAME", "Bot aus Umgebung")
    monkeypatch.setenv("HUBS_BRIDGE_HUBS__ADMIN_ACCESS_KEY", "geheim")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.hubs.bot_name == "Bot aus Umgebung"
    assert settings.hubs.admin_access_key is not None
    assert "geheim" not in repr(settings)
    monkeypatch.setenv("HUBS_BRIDGE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError):
        load_settings()


def test_default_config_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    settings = load_settings()
    assert settings.port == 8080 and settings.host == "127.0.0.1"
    assert settings.redis_url is None


def test_redis_url_redacted() -> None:
    settings = load_settings(redis_url="redis://user:pw@redis:6379/0")
    assert settings.redis_url_redacted == "redis://***@redis:6379/0"


def test_token_create_list_revoke(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data")
    result = run_cli(["token", "create", "--role", "staff", "--label", "Team"], env)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("hbs_") and len(token) > 40
    listed = run_cli(["token", "list"], env)
    assert "staff" in listed.stdout and token not in listed.stdout
    token_id = listed.stdout.split("\t", 1)[0]
    # The database keeps only the hash.
    db = (tmp_path / "data" / "hubs-bridge.sqlite3").read_bytes()
    assert token.encode() not in db
    assert run_cli(["token", "revoke", token_id], env).returncode == 0
    assert run_cli(["token", "revoke", token_id], env).returncode == 2
    bad = run_cli(["token", "create", "--role", "moderator"], env)
    assert bad.returncode == 2 and "--event" in bad.stderr
    unknown = run_cli(["token", "create", "--role", "moderator", "--event", "nope"], env)
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_scenes_check_command(tmp_path: Path) -> None:
    ok = run_cli(["scenes", "check"], server_env(tmp_path))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "broken.glb"
    broken.write_bytes(b"glTF\x02\x00\x00\x00\x10\x00\x00\x00")
    bad = run_cli(["scenes", "check", str(broken)], server_env(tmp_path))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_a_blank_question_prefix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="more than spaces"):
        make_settings(tmp_path, hubs={"question_prefixes": ["/frage ", "  "]})


async def test_a_failing_listener_does_not_fail_a_stored_change(tmp_path: Path) -> None:
    from hubs_bridge.calendar_service import CalendarService
    from hubs_bridge.core import event_commands as cmds
    from hubs_bridge.core.calendar import EventCreate, EventUpdate
    from hubs_bridge.store import open_store

    settings = make_settings(tmp_path)
    store = await open_store(settings)
    calendar = CalendarService(store, lambda: ["foyer"], settings.limits)
    heard: list[str] = []

    async def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    async def listening(event: object) -> None:
        heard.append("yes")

    calendar.changed += [broken, listening]
    try:
        body = {"slug": "hoeren", "title": "Hören"}
        body |= {"starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T12:00"}
        await calendar.create(EventCreate.model_validate(body))
        update = EventUpdate(title="Neu")
        changed = await calendar.change(
            "hoeren", lambda e, now: cmds.update_event(e, update, now=now)
        )
        assert changed.title == "Neu" and heard == ["yes"]
        stored = await store.get_event("hoeren")
        assert stored is not None and stored.title == "Neu"
    finally:
        await store.close()


def test_blank_hubs_secrets_are_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    # docker-compose passes unset variables as "": never an empty key sent to Hubs.
    for name in ("BOT_ACCESS_KEY", "ADMIN_ACCESS_KEY", "API_TOKEN", "ACCOUNT_TOKEN"):
        monkeypatch.setenv(f"HUBS_BRIDGE_HUBS__{name}", "")
    hubs = load_settings().hubs
    assert (hubs.bot_access_key, hubs.admin_access_key, hubs.api_token, hubs.account_token) == (
        None,
        None,
        None,
        None,
    )
    monkeypatch.setenv("HUBS_BRIDGE_HUBS__ACCOUNT_TOKEN", "a.b.c")
    token = load_settings().hubs.account_token
    assert token is not None and token.get_secret_value() == "a.b.c"


def test_unknown_keys_in_a_table_stop_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A typo in a nested table or variable was silently ignored (issue 11).
    monkeypatch.setenv("HUBS_BRIDGE_LIMITS__MAX_EVENT", "5")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "HUBS_BRIDGE_LIMITS__MAX_EVENT" in str(info.value)
    monkeypatch.delenv("HUBS_BRIDGE_LIMITS__MAX_EVENT")
    config = tmp_path / "typo.toml"
    config.write_text('[hubs]\nurl_typo = "https://hubs.example"\n')
    monkeypatch.setenv("HUBS_BRIDGE_CONFIG", str(config))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "URL_TYPO" in str(info.value).upper()


def test_serve_raises_its_open_files_limit_to_the_hard_one() -> None:
    # Every websocket is an open file; runtimes often start processes at 1,024.
    import resource

    from hubs_bridge.cli import raise_open_files_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        assert raise_open_files_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
