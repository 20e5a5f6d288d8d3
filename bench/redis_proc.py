"""The Redis a benchmark runs against: a private ``redis-server``, or a given one.

A private server (the default for ``--backend redis``) runs on a free port with
no persistence, so the numbers do not depend on a disk or on other people's
tests using the shared Redis; its CPU is measured like the server's. With
``--redis-url`` an existing Redis is used, under a prefix of its own that is
deleted afterwards.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class BenchRedis:
    """A Redis for one benchmark run: ``url``, a fresh ``prefix()`` per server, ``pid``."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or ""
        self.pid: int | None = None  # of a private redis-server, whose CPU is measured
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._prefixes: list[str] = []

    def __enter__(self) -> BenchRedis:
        if not self.url:
            self._start_private()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return self

    def _start_private(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on the PATH; pass --redis-url instead")
        self._tmp = tempfile.TemporaryDirectory(prefix="hubs-bench-redis-")
        port = free_port()
        self._proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._tmp.name, "--maxclients", "10000"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.pid = self._proc.pid
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("private redis-server did not start") from None
                time.sleep(0.05)
            finally:
                client.close()

    def prefix(self) -> str:
        """A key prefix no one else uses: each server of a run starts from nothing."""
        prefix = f"hbbench-{secrets.token_hex(4)}"
        self._prefixes.append(prefix)
        return prefix

    def memory_kb(self) -> int:
        """Redis's ``used_memory`` now, in KiB."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=2)
        try:
            return int(client.info("memory")["used_memory"]) // 1024
        finally:
            client.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None
        elif self.url and self._prefixes:
            self._delete_prefixes()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _delete_prefixes(self) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=2)
        try:
            for prefix in self._prefixes:
                keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
                for i in range(0, len(keys), 1000):
                    client.delete(*keys[i : i + 1000])
        finally:
            client.close()
