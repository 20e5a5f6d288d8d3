"""deploy/k8s, rendered by the real kustomize and checked against the Kubernetes schemas.

No cluster runs here, so each overlay is rendered with ``kubectl kustomize`` (kustomize
v5 inside kubectl), every object is validated offline against the API schemas of the
versions below (``kubernetes-validate``, strict: an unknown field fails), and what a
deployment beside Hubs CE needs is checked on the rendered objects. The last test runs
the pods' own commands (Redis with the StatefulSet's arguments, the bridge with the
Deployment's command and environment) as processes on this machine.

Outside CI a missing kubectl skips these tests; under CI=true it fails them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import redis
import yaml

from tests.conftest import REPO, free_port, need_service
from tests.harness.deploy_settings import documented_exceptions, readme_settings
from tests.harness.waiting import eventually_sync

K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("ce", "ce-external-redis")
# The oldest Kubernetes these manifests claim (docs/deploy.md) and a recent one.
K8S_VERSIONS = ("1.29", "1.35")
KUBECTL = shutil.which("kubectl")

Doc = dict[str, Any]


def _kustomize_major() -> int:
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL, "version", "--client"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"Kustomize Version: v(\d+)", out)
    assert found, f"kubectl does not say its kustomize version:\n{out}"
    return int(found.group(1))


def secret_values() -> dict[str, str]:
    """What an operator puts into site/secrets.env: every key of the example, filled in."""
    keys = [
        line.split("=", 1)[0]
        for line in (K8S / "site" / "secrets.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    values = {key: secrets.token_hex(16) for key in keys}
    values["HUBS_BRIDGE_SECRET_KEY"] = secrets.token_hex(32)
    values["HUBS_BRIDGE_STAFF_TOKEN"] = secrets.token_hex(24)
    values["REDIS_PASSWORD"] = secrets.token_hex(32)
    values["HUBS_BRIDGE_REDIS_URL"] = "redis://:pw@redis.example.net:6379/0"
    return values


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Doc]]:
    """Each overlay as ``kubectl apply -k`` would send it, from a copy with secrets.env."""
    need_service(
        "kubectl (renders the kustomize overlays)",
        None if KUBECTL else "not on PATH (any kubectl with kustomize v5, e.g. 1.27 or newer)",
    )
    assert KUBECTL is not None
    assert _kustomize_major() >= 5, "deploy/k8s needs kustomize v5 (kubectl 1.27 or newer)"
    copy = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("secrets.env"))
    (copy / "site" / "secrets.env").write_text(
        "".join(f"{k}={v}\n" for k, v in secret_values().items())
    )
    out: dict[str, list[Doc]] = {}
    for overlay in OVERLAYS:
        result = subprocess.run(
            [KUBECTL, "kustomize", str(copy / "overlays" / overlay)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{overlay} does not render:\n{result.stderr}"
        out[overlay] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return out


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def bridge_container(docs: list[Doc]) -> Doc:
    pod = one(docs, "Deployment", "hubs-bridge")["spec"]["template"]["spec"]
    container: Doc = pod["containers"][0]
    return container


def secret_data(docs: list[Doc], name: str) -> dict[str, str]:
    secret = next(d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == name)
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def _expand(value: str, defined: dict[str, str]) -> str:
    """The kubelet's ``$(VAR)`` expansion: variables defined earlier, others kept as written."""
    return re.sub(
        r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: defined.get(m.group(1), m.group(0)), value
    )


def container_env(docs: list[Doc], container: Doc) -> dict[str, str]:
    """The environment the container starts with: envFrom, then env in order, expanded."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
        env.update(config["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = _expand(var["value"], env)
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        data = secret_data(docs, ref["name"])
        if ref["key"] in data:
            env[var["name"]] = data[ref["key"]]
    return env


def workload_containers(docs: list[Doc]) -> Iterator[Doc]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            yield from doc["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_kubernetes(
    rendered: dict[str, list[Doc]], overlay: str, version: str
) -> None:
    docs = rendered[overlay]
    assert docs
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc.message}")


def test_the_validator_refuses_a_misspelt_field() -> None:
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}
    bad["spec"] = {"ports": [{"port": 80}], "selektor": {"a": "b"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSIONS[0], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_the_ce_namespace(rendered: dict[str, list[Doc]], overlay: str) -> None:
    assert {d["metadata"].get("namespace") for d in rendered[overlay]} == {"hcce"}


def _code_seconds(path: str, pattern: str) -> float:
    found = re.search(pattern, (REPO / path).read_text())
    assert found, f"{path} no longer says {pattern!r}: update this test and the grace period"
    return float(found.group(1))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_probes_and_a_graceful_stop(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    deployment = one(docs, "Deployment", "hubs-bridge")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = deployment["spec"]["template"]["spec"]
    container = bridge_container(docs)
    env = container_env(docs, container)
    http = next(p for p in container["ports"] if p["name"] == "http")
    assert str(http["containerPort"]) == env["HUBS_BRIDGE_PORT"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}

    # SIGTERM arrives after preStop; then the bye and the closes (service.py), then
    # aiohttp's wait for handlers (cli.py), then cleanup: all inside the grace period.
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    bye_s = _code_seconds(
        "hubs_bridge/realtime/service.py",
        r"asyncio\.wait\(list\(self\._tasks\), timeout=([\d.]+)\)",
    )
    handlers_s = _code_seconds("hubs_bridge/cli.py", r"shutdown_timeout=([\d.]+)")
    assert float(pre_stop[1]) >= 5, "haproxy needs a few seconds to drop the endpoint"
    assert pod["terminationGracePeriodSeconds"] >= float(pre_stop[1]) + bye_s + handlers_s + 10

    command = container["command"]
    assert command[:2] == ["sh", "-c"]
    assert command[2].endswith("exec hubs-bridge serve"), "the server must be PID 1 for SIGTERM"
    assert 'ulimit -Sn "$(ulimit -Hn)"' in command[2]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_reference_resolves(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    example = set(secret_values())
    for container in workload_containers(docs):
        defined: set[str] = set()
        for var in container.get("env", []):
            for used in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", var.get("value", "")):
                assert used in defined, f"{var['name']} uses $({used}) before it is defined"
            defined.add(var["name"])
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref is None:
                continue
            assert ref["key"] in secret_data(docs, ref["name"]), f"{ref} is not in the Secret"
            assert ref["key"] in example, f"site/secrets.env.example lacks {ref['key']}"
        for arg in container.get("args", []):
            for used in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                assert used in defined, f"an argument of {container['name']} uses $({used})"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_production_settings(
    rendered: dict[str, list[Doc]], overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pod's environment makes valid settings: seeding off, public URL on its own host,
    Redis, and the ingress's forwarded address believed."""
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from hubs_bridge.settings import ENV_PREFIX, load_settings
    from hubs_bridge.web.client_address import client_address
    from hubs_bridge.web.keys import SETTINGS

    docs = rendered[overlay]
    env = container_env(docs, bridge_container(docs))
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()

    assert settings.seed_dir is None
    assert settings.redis_url is not None
    assert settings.public_url is not None and settings.public_url.startswith("https://")
    assert settings.hubs.url is not None
    public_host = urlsplit(settings.public_url).hostname
    assert public_host != urlsplit(settings.hubs.url).hostname, "the bridge needs its own host"
    assert settings.trusted_proxies

    app = web.Application()
    app[SETTINGS] = settings
    haproxy_pod = str(next(settings.trusted_proxies[0].hosts()))
    request = make_mocked_request(
        "GET", "/go/e/r", headers={"X-Forwarded-For": "198.51.100.1"}, app=app
    ).clone(remote=haproxy_pod)
    assert client_address(request) == "198.51.100.1"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_routing_on_ces_haproxy(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    env = container_env(docs, bridge_container(docs))
    ingress = one(docs, "Ingress", "hubs-bridge")
    assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "haproxy"
    host = urlsplit(env["HUBS_BRIDGE_PUBLIC_URL"]).hostname
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == host
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": f"cert-{host}"}]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    service = one(docs, "Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}

    policy = one(docs, "NetworkPolicy", "hubs-bridge")
    (allowed,) = policy["spec"]["ingress"]
    assert allowed["from"] == [{"podSelector": {"matchLabels": {"app": "haproxy"}}}]
    assert allowed["ports"] == [{"protocol": "TCP", "port": int(env["HUBS_BRIDGE_PORT"])}]


def test_in_cluster_redis_persists_every_write(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["ce"]
    redis_set = one(docs, "StatefulSet", "hubs-bridge-redis")
    (container,) = redis_set["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    pairs = dict(zip(args[1::2], args[2::2], strict=True))
    assert pairs["--appendonly"] == "yes" and pairs["--appendfsync"] == "always"
    (claim,) = redis_set["spec"]["volumeClaimTemplates"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"])
    assert mount["mountPath"] == pairs["--dir"]
    url = urlsplit(container_env(docs, bridge_container(docs))["HUBS_BRIDGE_REDIS_URL"])
    service = one(docs, "Service", redis_set["spec"]["serviceName"])
    assert url.hostname == service["metadata"]["name"]
    assert url.port in {p["port"] for p in service["spec"]["ports"]}
    assert not any(d["kind"] == "StatefulSet" for d in rendered["ce-external-redis"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_readme_setting_is_passed(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    passed = set(container_env(docs, bridge_container(docs)))
    passed |= {v["name"] for v in bridge_container(docs).get("env", [])}
    missing = readme_settings() - documented_exceptions() - passed
    assert missing == set(), "pass them in deploy/k8s or list them in docs/deploy.md"


def _limits(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open files line")


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


@pytest.mark.slow
def test_the_pods_commands_run(rendered: dict[str, list[Doc]], tmp_path: Path) -> None:
    """Redis from the StatefulSet's arguments and the bridge from the Deployment's command
    and environment, as processes here: fsync always, the password of the URL accepted,
    the open files limit raised, no example events, a clean exit on SIGTERM."""
    docs = rendered["ce"]
    redis_container = one(docs, "StatefulSet", "hubs-bridge-redis")["spec"]["template"]["spec"][
        "containers"
    ][0]
    redis_env = container_env(docs, redis_container)
    binary = shutil.which(redis_container["args"][0])
    need_service("redis-server binary", None if binary else "not on PATH")
    assert binary is not None
    args = [_expand(a, redis_env) for a in redis_container["args"][1:]]
    args[args.index("--dir") + 1] = str(tmp_path)
    redis_port = free_port()
    redis_proc = subprocess.Popen(
        [binary, *args, "--port", str(redis_port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bridge: subprocess.Popen[bytes] | None = None
    try:
        env = container_env(docs, bridge_container(docs))
        url = urlsplit(env["HUBS_BRIDGE_REDIS_URL"])
        local_url = url._replace(netloc=f":{url.password}@127.0.0.1:{redis_port}").geturl()
        client = redis.Redis.from_url(local_url, socket_connect_timeout=0.5)
        _wait_for(lambda: _answers(client), "Redis with the manifest's arguments")
        assert client.config_get("appendfsync") == {"appendfsync": "always"}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.close()

        port = free_port()
        # No Hubs server here: the bridge must not reach out to example.net.
        for name in [n for n in env if n.startswith("HUBS_BRIDGE_HUBS__")]:
            del env[name]
        env.update(
            HUBS_BRIDGE_REDIS_URL=local_url,
            HUBS_BRIDGE_HOST="127.0.0.1",
            HUBS_BRIDGE_PORT=str(port),
            HUBS_BRIDGE_DATA_DIR=str(tmp_path / "data"),
            PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        )
        command = bridge_container(docs)["command"]

        def low_soft_limit() -> None:  # as under a runtime that leaves the soft limit at 1024
            import resource

            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))

        with (tmp_path / "bridge.log").open("wb") as log:
            bridge = subprocess.Popen(
                command, env=env, cwd=REPO, stdout=log, stderr=log, preexec_fn=low_soft_limit
            )
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _get(base + "/readyz")[0] == 200, "the bridge's /readyz", bridge)
        soft, hard = _limits(bridge.pid)
        assert soft == hard, "the soft open files limit was not raised to the hard one"
        status, body = _get(base + "/api/events")
        assert status == 200 and body["events"] == [], "example events were seeded"

        bridge.send_signal(signal.SIGTERM)
        grace = one(docs, "Deployment", "hubs-bridge")["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]
        pre_stop = float(bridge_container(docs)["lifecycle"]["preStop"]["exec"]["command"][1])
        assert bridge.wait(timeout=grace - pre_stop) == 0
    finally:
        if bridge is not None and bridge.poll() is None:
            bridge.kill()
            bridge.wait(5)
        redis_proc.kill()
        redis_proc.wait(5)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _wait_for(check: Any, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    def up() -> bool:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        try:
            return bool(check())
        except OSError:
            return False

    eventually_sync(up, what=f"{what} to come up", timeout=20)
