"""Configuration as strict as promised (issue 11): nothing wrong ignored, every error sourced."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubs_bridge.errors import ConfigError
from hubs_bridge.settings import Settings, load_settings
from hubs_bridge.settings_sources import known_variables, secret_paths
from tests.conftest import REPO
from tests.harness.server_process import run_cli, server_env


def _refusal(monkeypatch: pytest.MonkeyPatch, toml: str | None = None, **env: str) -> str:
    """The one line ``load_settings`` refuses with, given a config file and variables."""
    if toml is not None:
        config = Path(env.pop("_dir")) / "hubs-bridge.toml"
        config.write_text(toml)
        monkeypatch.setenv("HUBS_BRIDGE_CONFIG", str(config))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    text = str(info.value)
    assert "\n" not in text
    return text


# --- unknown variables -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("HUBS_BRIDGE_PROT", "HUBS_BRIDGE_PROT: unknown setting; did you mean HUBS_BRIDGE_PORT?"),
        (
            "HUBS_BRIDGE_STAFF_TOKN",
            "HUBS_BRIDGE_STAFF_TOKN: unknown setting; did you mean HUBS_BRIDGE_STAFF_TOKEN?",
        ),
        (
            "HUBS_BRIDGE_HUBS__API_TOKENS",
            "HUBS_BRIDGE_HUBS__API_TOKENS: unknown setting; "
            "did you mean HUBS_BRIDGE_HUBS__API_TOKEN?",
        ),
        # Read case-insensitively by pydantic-settings, so checked the same way.
        ("hubs_bridge_prot", "hubs_bridge_prot: unknown setting; did you mean HUBS_BRIDGE_PORT?"),
        ("HUBS_BRIDGE_NOTHING_LIKE_ANY", "HUBS_BRIDGE_NOTHING_LIKE_ANY: unknown setting"),
    ],
)
def test_an_unknown_variable_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, expected: str
) -> None:
    # It was silently ignored: a mistyped HUBS_BRIDGE_STAFF_TOKN left staff locked out.
    assert _refusal(monkeypatch, **{name: "1"}) == expected


def test_an_unknown_variable_is_refused_by_settings_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBS_BRIDGE_PROT", "9000")
    with pytest.raises(ConfigError, match="HUBS_BRIDGE_PROT"):
        Settings()


def test_variables_read_elsewhere_are_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBS_BRIDGE_CONFIG", str(REPO / "config" / "hubs-bridge.toml"))
    monkeypatch.setenv("HUBS_BRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("HUBS_BRIDGE_REALTIME__PRESENCE_TTL_S", "10")
    monkeypatch.setenv("HUBS_BRIDGE_HUBS", '{"bot_name": "Aus JSON"}')
    settings = load_settings()
    assert settings.realtime.presence_ttl_s == 10 and settings.hubs.bot_name == "Aus JSON"


def test_every_variable_the_repository_mentions_is_known() -> None:
    # README, docs, compose, bench and the scripts name variables people copy: each
    # must be accepted, or following the docs would now stop start-up.
    places = ["README.md", "Dockerfile", "docker-compose.yml", "config", "docs", "deploy"]
    places += ["bench", "scripts", "hubs_bridge"]
    found: set[str] = set()
    for place in places:
        root = REPO / place
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for file in files:
            if file.suffix in {".png", ".glb", ".jpg", ".sqlite3", ".pyc", ".json"}:
                continue
            text = file.read_text(errors="replace")
            found |= set(re.findall(r"HUBS_BRIDGE_[A-Z0-9_]*[A-Z0-9]", text))
    found -= {"HUBS_BRIDGE_X"}  # bench/run.py's placeholder in --server-env's help
    assert len(found) > 20
    assert found <= known_variables(Settings), sorted(found - known_variables(Settings))


# --- secrets in the file -----------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "place", "variable"),
    [
        ('staff_token = "x"\n', "staff_token", "HUBS_BRIDGE_STAFF_TOKEN"),
        # At the end of the file TOML puts it into the last table: it was ignored there.
        (
            '[hubs]\nbot_name = "Bot"\nstaff_token = "x"\n',
            "[hubs] staff_token",
            "HUBS_BRIDGE_STAFF_TOKEN",
        ),
        ('[limits]\nredis_url = "redis://x"\n', "[limits] redis_url", "HUBS_BRIDGE_REDIS_URL"),
        ('[hubs]\napi_token = "x"\n', "[hubs] api_token", "HUBS_BRIDGE_HUBS__API_TOKEN"),
        ('hubs.account_token = "x"\n', "[hubs] account_token", "HUBS_BRIDGE_HUBS__ACCOUNT_TOKEN"),
        ('api_token = "x"\n', "api_token", "HUBS_BRIDGE_HUBS__API_TOKEN"),
        ('[qa]\nsecret_key = ""\n', "[qa] secret_key", "HUBS_BRIDGE_SECRET_KEY"),
    ],
)
def test_a_secret_anywhere_in_the_file_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, place: str, variable: str
) -> None:
    file = tmp_path / "hubs-bridge.toml"
    assert _refusal(monkeypatch, toml, _dir=str(tmp_path)) == (
        f"{file}: {place}: secrets are never read from the config file; "
        f"set {variable} in the environment instead"
    )


def test_every_secret_is_found_from_the_model() -> None:
    assert set(secret_paths(Settings)) == {
        ("redis_url",),
        ("store_url",),  # a URL may hold a password, so never in the file
        ("broker_url",),
        ("secret_key",),
        ("staff_token",),
        ("hubs", "bot_access_key"),
        ("hubs", "admin_access_key"),
        ("hubs", "api_token"),
        ("hubs", "account_token"),
    }


# --- the real source of a bad value ------------------------------------------


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        # Reported as "setting HUBS_BRIDGE_CONFIG" before: a list in a variable is JSON.
        (
            None,
            {"HUBS_BRIDGE_TRUSTED_PROXIES": "10.0.0.1"},
            "HUBS_BRIDGE_TRUSTED_PROXIES: Input should be a valid list "
            '(write it as a JSON list, e.g. ["a", "b"])',
        ),
        (
            None,
            {"HUBS_BRIDGE_HUBS__QUESTION_PREFIXES": "/frage"},
            "HUBS_BRIDGE_HUBS__QUESTION_PREFIXES: Input should be a valid list",
        ),
        (
            None,
            {"HUBS_BRIDGE_TRUSTED_PROXIES": '["not-an-address"]'},
            "HUBS_BRIDGE_TRUSTED_PROXIES: value is not a valid IPv4 or IPv6 network",
        ),
        # A bad value in the file was blamed on the variable of the same name.
        ('port = "eighty"\n', {}, "{file}: port: Input should be a valid integer"),
        ('[hubs]\nurl = "hubs.example"\n', {}, "{file}: [hubs] url: Value error, must start"),
        (
            'trusted_proxies = ["nope"]\n',
            {},
            "{file}: trusted_proxies: value is not a valid IPv4 or IPv6 network",
        ),
        ("prot = 9000\n", {}, "{file}: prot: unknown setting; did you mean port?"),
        ("[limits]\nmax_event = 5\n", {}, "{file}: [limits] max_event: unknown setting; did you"),
        ("port = \n", {}, "{file}: not valid TOML: Invalid value (at line 1, column 8)"),
        # The variable wins over the file, so it is the variable that was wrong.
        ("port = 8081\n", {"HUBS_BRIDGE_PORT": "x"}, "HUBS_BRIDGE_PORT: Input should be a valid"),
        # A table given as JSON in one variable, with the bad key inside it.
        (
            '[hubs]\nbot_name = "ok"\n',
            {"HUBS_BRIDGE_HUBS": '{"url": "ftp://x"}'},
            "HUBS_BRIDGE_HUBS: Value error, must start",
        ),
        # ... and without it: the file's key is the one to blame.
        (
            '[hubs]\nurl = "ftp://x"\n',
            {"HUBS_BRIDGE_HUBS": '{"bot_name": "ok"}'},
            "{file}: [hubs] url: Value error, must start",
        ),
    ],
)
def test_a_bad_value_names_its_real_source(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str | None,
    env: dict[str, str],
    expected: str,
) -> None:
    text = _refusal(monkeypatch, toml, _dir=str(tmp_path), **env)
    assert text.startswith(expected.format(file=tmp_path / "hubs-bridge.toml")), text


def test_the_command_prints_the_source_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[hubs]\nbot_name = "Bot"\nstaff_token = "0123456789abcdef0123456789abcdef"\n'
    )
    cases = [
        (
            server_env(tmp_path, HUBS_BRIDGE_CONFIG=str(config)),
            ["serve"],
            f"hubs-bridge: error: {config}: [hubs] staff_token: secrets are never read",
        ),
        (
            server_env(tmp_path, HUBS_BRIDGE_TRUSTED_PROXIES="10.0.0.1"),
            ["serve"],
            "hubs-bridge: error: HUBS_BRIDGE_TRUSTED_PROXIES: Input should be a valid list",
        ),
        (
            server_env(tmp_path, HUBS_BRIDGE_SECRET_KY="x"),
            ["token", "list"],
            "hubs-bridge: error: HUBS_BRIDGE_SECRET_KY: unknown setting; "
            "did you mean HUBS_BRIDGE_SECRET_KEY?",
        ),
        (server_env(tmp_path), ["serve", "--port", "70000"], "hubs-bridge: error: --port: "),
    ]
    for env, args, expected in cases:
        result = run_cli(args, env)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
