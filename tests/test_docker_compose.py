"""docker-compose.yml is for users (no Docker engine runs here); check what we can."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hubs_bridge.settings import ENV_PREFIX
from tests.conftest import REPO
from tests.harness.deploy_settings import (
    CONFIG_VARIABLE,
    documented_exceptions,
    is_setting,
    readme_settings,
)


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_every_variable_is_a_real_setting() -> None:
    services = _compose()["services"]
    names = [
        name
        for service in services.values()
        for name in (service.get("environment") or {})
        if name.startswith(ENV_PREFIX)
    ]
    assert names, "the bridges must be configured through HUBS_BRIDGE_ variables"
    unknown = [n for n in names if not is_setting(n)]
    assert unknown == []


def test_checker_catches_typos() -> None:
    assert is_setting("HUBS_BRIDGE_HUBS__URL")
    assert not is_setting("HUBS_BRIDGE_HUBS__URLL")
    assert not is_setting("HUBS_BRIDGE_PORT__X")


def test_shape_redis_persistent_two_replicas_proxy() -> None:
    compose = _compose()
    services = compose["services"]
    redis_cmd = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--appendfsync always" in redis_cmd
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert "redis-data" in compose["volumes"]
    bridges = [
        s for s in services.values() if "HUBS_BRIDGE_REDIS_URL" in (s.get("environment") or {})
    ]
    assert len(bridges) >= 2
    assert all(b["environment"]["HUBS_BRIDGE_HOST"] == "0.0.0.0" for b in bridges)
    proxy_conf = (REPO / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade" in proxy_conf
    for name in (n for n, s in services.items() if s in bridges):
        assert f"server {name}:8080" in proxy_conf


def test_the_replicas_see_visitors_behind_the_proxy(tmp_path: Path) -> None:
    """Per-address limits must see visitors, not nginx: nginx forwards the address and
    the replicas believe it from the compose network (and from nowhere else)."""
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from hubs_bridge.web.client_address import client_address
    from hubs_bridge.web.keys import SETTINGS
    from tests.conftest import make_settings

    assert (
        "X-Forwarded-For $proxy_add_x_forwarded_for" in (REPO / "deploy" / "nginx.conf").read_text()
    )
    env = _compose()["services"]["bridge-1"]["environment"]
    proxies = json.loads(env["HUBS_BRIDGE_TRUSTED_PROXIES"])
    app = web.Application()
    app[SETTINGS] = make_settings(tmp_path, trusted_proxies=proxies)
    request = make_mocked_request(
        "GET", "/go/e/r", headers={"X-Forwarded-For": "198.51.100.1"}, app=app
    ).clone(remote="172.18.0.3")  # nginx on a compose network
    assert client_address(request) == "198.51.100.1"


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _interpolate(value: str, environ: dict[str, str]) -> str:
    """docker compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        current = environ.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if not unset:
            return current or ""
        if op is not None and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return arg if op is not None else ""

    return _VARIABLE.sub(one, value)


def _bridge_env(environ: dict[str, str]) -> dict[str, str]:
    env = _compose()["services"]["bridge-1"]["environment"]
    return {name: _interpolate(str(value), environ) for name, value in env.items()}


def test_every_readme_setting_is_passed() -> None:
    passed = set(_compose()["services"]["bridge-1"]["environment"])
    missing = readme_settings() - documented_exceptions() - passed
    assert missing == set(), "pass them in docker-compose.yml or list them in docs/deploy.md"


def test_the_exceptions_are_few_and_real() -> None:
    exceptions = documented_exceptions()
    assert 0 < len(exceptions) <= 5
    assert all(is_setting(n) or n == CONFIG_VARIABLE for n in exceptions)


def test_production_defaults_make_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `docker compose up` starts with when only the two required secrets are given:
    valid settings, no example events, Redis, the proxy believed."""
    from hubs_bridge.settings import load_settings

    with pytest.raises(KeyError, match="HUBS_BRIDGE_SECRET_KEY"):
        _bridge_env({})
    env = _bridge_env({"HUBS_BRIDGE_SECRET_KEY": "ab" * 32, "HUBS_BRIDGE_STAFF_TOKEN": "cd" * 24})
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.seed_dir is None, "the production compose must not seed example events"
    assert settings.redis_url is not None and settings.trusted_proxies
    assert settings.hubs.url is None and settings.hubs.api_token is None
    assert settings.cors_origins == ["*"] and settings.realtime.allowed_origins == []


def test_seeding_can_be_switched_on() -> None:
    env = _bridge_env(
        {
            "HUBS_BRIDGE_SECRET_KEY": "x",
            "HUBS_BRIDGE_STAFF_TOKEN": "y",
            "HUBS_BRIDGE_SEED_DIR": "config/events",
        }
    )
    assert env["HUBS_BRIDGE_SEED_DIR"] == "config/events"
    assert (REPO / env["HUBS_BRIDGE_SEED_DIR"]).is_dir()


def test_replicas_may_stop_gracefully_and_hold_many_sessions() -> None:
    service = _compose()["services"]["bridge-1"]
    grace = service["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) >= 6 + 8 + 10  # bye, handlers, cleanup
    assert service["ulimits"]["nofile"]["soft"] >= 10_000
