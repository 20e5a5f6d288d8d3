"""docker-compose.yml is for users (no Docker engine runs here); check what we can."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from hubs_bridge.settings import ENV_PREFIX, Settings
from tests.conftest import REPO


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _is_setting(env_name: str) -> bool:
    """Whether ``HUBS_BRIDGE_A__B`` names a field ``a.b`` of :class:`Settings`."""
    parts = env_name.removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if i < len(parts) - 1:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def test_every_variable_is_a_real_setting() -> None:
    services = _compose()["services"]
    names = [
        name
        for service in services.values()
        for name in (service.get("environment") or {})
        if name.startswith(ENV_PREFIX)
    ]
    assert names, "the bridges must be configured through HUBS_BRIDGE_ variables"
    unknown = [n for n in names if not _is_setting(n)]
    assert unknown == []


def test_checker_catches_typos() -> None:
    assert _is_setting("HUBS_BRIDGE_HUBS__URL")
    assert not _is_setting("HUBS_BRIDGE_HUBS__URLL")
    assert not _is_setting("HUBS_BRIDGE_PORT__X")


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
