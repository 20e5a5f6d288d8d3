"""A private ``redis-server`` on a free port, for tests that kill or restart Redis."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.conftest import free_port, need_service
from tests.harness.waiting import eventually_sync


class PrivateRedis:
    def __init__(self, workdir: Path, *, appendonly: bool = False) -> None:
        binary = shutil.which("redis-server")
        need_service("redis-server binary", None if binary else "not on PATH")
        assert binary is not None
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(self.workdir),
        ]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually_sync(
            lambda: answers(self.url), what="the private redis-server to start", timeout=10
        )

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()  # SIGTERM: Redis flushes the append-only file before exiting
        self.proc.wait(10)
        self.proc = None


def answers(url: str) -> bool:
    """Whether a Redis answers on ``url`` now (not yet, while it is starting)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextmanager
def private_redis(workdir: Path, *, appendonly: bool = False) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir, appendonly=appendonly)
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)
