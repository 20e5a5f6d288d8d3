"""The whole app in this process on a real port, stopped and started again over its data dir."""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from hubs_bridge.settings import Settings
from hubs_bridge.web.app import create_app


class InProcessServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: TestServer | None = None
        self.restarts = 0

    async def start(self) -> None:
        self.server = TestServer(await create_app(self.settings))
        await self.server.start_server()

    async def stop(self) -> None:
        """A graceful stop (SIGTERM's path): pages get ``bye`` and a close."""
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def restart(self) -> None:
        """The same data dir, a new process state: with the in-memory broker a new epoch."""
        await self.stop()
        await self.start()
        self.restarts += 1

    def url(self, path: str) -> str:
        assert self.server is not None, "the server is stopped"
        return str(self.server.make_url(path))

    @property
    def ws_url(self) -> str:
        return self.url("/ws")
