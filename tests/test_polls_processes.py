"""Polls across real processes on one Redis: answers taken by two processes count together,
exactly, and every page of either process ends on the same final results."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REDIS_URL
from tests.harness.process_rig import STAFF, create_event, redis_env, visitor
from tests.harness.server_process import ServerProcess, running_server
from tests.harness.ws_client import WsClient

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {STAFF}"}
VOTERS = 40


def test_answers_through_two_processes_count_exactly(tmp_path: Path, redis_prefix: str) -> None:
    env = redis_env(tmp_path, REDIS_URL, redis_prefix)
    with running_server(env, log_dir=tmp_path) as a, running_server(env, log_dir=tmp_path) as b:
        asyncio.run(_across(a, b))


async def _answer(client: WsClient, poll: str, choice: int, ref: str) -> None:
    await client.send(
        {"type": "poll_answer", "poll": poll, "choices": [choice], "client_msg_id": ref}
    )
    ack = await client.next("ack", ref=ref)
    assert ack["answer"]["choices"] == [choice]


async def _across(a: ServerProcess, b: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http:
        await create_event(http, a)
        body = {"question": "Welche AG zuerst?", "kind": "single", "options": ["A", "B", "C"]}
        resp = await http.post(a.url + "/api/events/netz/polls", json=body, headers=AUTH)
        poll = (await resp.json())["poll"]["id"]
        watchers = [await visitor(http, a), await visitor(http, b)]
        resp = await http.post(b.url + f"/api/events/netz/polls/{poll}/open", headers=AUTH)
        assert resp.status == 200, await resp.text()
        voters = [await visitor(http, a if i % 2 else b) for i in range(VOTERS)]
        await asyncio.gather(*(_answer(v, poll, i % 3, "first") for i, v in enumerate(voters)))
        # Every fifth changes to C, through the same process: each still counts once.
        changed = voters[::5]
        await asyncio.gather(*(_answer(v, poll, 2, "second") for v in changed))
        final = [0, 0, 0]
        for i, _ in enumerate(voters):
            final[2 if i % 5 == 0 else i % 3] += 1
        for watcher in watchers:
            await watcher.next(
                "poll_results", timeout=10, where=lambda f: f["results"]["counts"] == final
            )
        resp = await http.post(a.url + f"/api/events/netz/polls/{poll}/close", headers=AUTH)
        closed = await resp.json()
        assert closed["results"]["counts"] == final
        assert closed["results"]["respondents"] == VOTERS
        for client in (*watchers, *voters):
            await client.close()
