"""Run ``hubs-bridge serve`` as a real child process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO, free_port
from tests.harness.waiting import eventually_sync


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """``python -m hubs_bridge ARGS`` to its end: its exit code and what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "hubs_bridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a child server: no HUBS_BRIDGE_* leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBS_BRIDGE_")}
    env.update(
        {
            "HUBS_BRIDGE_DATA_DIR": str(data_dir),
            "HUBS_BRIDGE_SCENES_DIR": str(REPO / "room_scenes"),
            "HUBS_BRIDGE_LOG_LEVEL": "warning",
        }
    )
    env.update(extra)
    return env


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_server(
    env: Mapping[str, str],
    *,
    log_dir: Path,
    cwd: Path = REPO,
    timeout: float = 20.0,
    port: int | None = None,
) -> Iterator[ServerProcess]:
    """Start the server, wait until ``/healthz`` answers, and stop it (SIGTERM) afterwards."""
    port = port or free_port()
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hubs_bridge", "serve", "--port", str(port)],
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(proc, port, log)
    try:
        _wait_healthy(server, timeout)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_healthy(server: ServerProcess, timeout: float) -> None:
    def healthy() -> bool:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    try:
        eventually_sync(healthy, what="the server to be healthy", timeout=timeout)
    except AssertionError as exc:
        raise RuntimeError(f"{exc}:\n{server.output()}") from None
