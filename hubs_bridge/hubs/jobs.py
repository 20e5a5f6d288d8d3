"""Provisioning in the background, its progress visible from every process.

A job provisions one event (``provision.py``) in a task of the process that
started it. Its status lives in the broker (``value_put``), so a staff page
served by any process reads the same thing, room by room as each finishes.

One job per event at a time, across processes: starting one takes a broker
lease whose key names the latest job (``provision-job:<event>:<latest job>``),
so everyone who saw the same latest job competes for the same key, exactly
one wins, and the next round competes for a new key (no lease is ever
released). While a job runs, its process renews ``alive_until`` in the
status every few seconds; a "running" status whose process stopped renewing
(it died) reads as ``failed``, and the next start begins a fresh job. A job
whose status could not be saved for ``ALIVE_S`` (broker away) reads as failed
everywhere, so it is stopped: nobody could see it finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ValidationError

from hubs_bridge.broker.base import Broker
from hubs_bridge.errors import Conflict
from hubs_bridge.hubs.provision import OnResult, RoomResult

log = logging.getLogger(__name__)

JobState = Literal["running", "done", "failed"]
Run = Callable[[str, OnResult], Awaitable[list[RoomResult]]]
STATUS_KEY = "provision-job:"
LEAD_PREFIX = "provision-job-start:"
HEARTBEAT_S = 2.0
ALIVE_S = 10.0  # a running job unheard of this long has lost its process
STATUS_TTL_S = 7 * 24 * 3600.0
LEASE_S = 60.0
START_WAIT_S = 3.0


class JobStatus(BaseModel):
    """What a provisioning job has done so far (``GET /api/events/{event}/provision``)."""

    event: str
    job: str
    state: JobState
    total: int
    done: int
    rooms: list[RoomResult]
    started_at: datetime
    finished_at: datetime | None = None
    message: str | None = None


class _Stored(BaseModel):
    status: JobStatus
    alive_until: float  # wall-clock seconds, compared across processes


class ProvisionJobs:
    """Starts provisioning jobs and reads their status; owned by the app (``close``)."""

    def __init__(
        self, broker: Broker, run: Run, now: Callable[[], datetime], clock: Callable[[], float]
    ) -> None:
        self._broker = broker
        self._run = run
        self._now = now
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def status(self, event: str) -> JobStatus | None:
        """The latest job of the event, or ``None`` if there was none (or it is forgotten)."""
        raw = await self._broker.value_get(STATUS_KEY + event)
        if raw is None:
            return None
        try:
            stored = _Stored.model_validate_json(raw)
        except ValidationError:
            log.warning("unreadable provisioning status of %s; ignored", event)
            return None
        status = stored.status
        if status.state == "running" and stored.alive_until < self._clock():
            return status.model_copy(
                update={"state": "failed", "message": "the process running this job stopped"}
            )
        return status

    async def start(self, event: str, total: int) -> tuple[JobStatus, bool]:
        """Start a job unless one is running; the job's status and whether it is new."""
        deadline = time.monotonic() + START_WAIT_S
        while True:
            current = await self.status(event)
            if current is not None and current.state == "running":
                return current, False
            generation = current.job if current is not None else "-"
            job = secrets.token_hex(6)
            if await self._broker.lead(f"{LEAD_PREFIX}{event}:{generation}", job, LEASE_S):
                return await self._begin(event, job, total), True
            # Another process won this round: its status appears in a moment.
            if time.monotonic() > deadline:
                raise Conflict(
                    "another process is starting provisioning but shows no status yet; "
                    "try again in a moment",
                    code="provisioning_starting",
                )
            await asyncio.sleep(0.05)

    async def _begin(self, event: str, job: str, total: int) -> JobStatus:
        status = JobStatus(
            event=event,
            job=job,
            state="running",
            total=total,
            done=0,
            rooms=[],
            started_at=self._now(),
        )
        saver = _Saver(self._broker, status, self._clock)
        await saver.save()
        task = asyncio.create_task(self._work(saver), name=f"provision {event} {job}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return status

    async def _work(self, saver: _Saver) -> None:
        status = saver.status

        async def on_result(result: RoomResult) -> None:
            status.rooms.append(result)
            status.done = len(status.rooms)
            await saver.save()

        work = asyncio.current_task()
        assert work is not None
        heartbeat = asyncio.create_task(saver.beat(work))
        try:
            results = await self._run(status.event, on_result)
            failed = [r for r in results if r.state == "failed"]
            status.state = "failed" if failed else "done"
            ready = len(results) - len(failed)
            status.message = f"{ready} of {len(results)} rooms ready" + (
                f"; {len(failed)} failed" if failed else ""
            )
        except asyncio.CancelledError:
            status.state, status.message = "failed", "stopped: the server shut down"
            if saver.lost:
                status.message = (
                    f"stopped: its status could not be saved for {ALIVE_S:g} s (broker away)"
                )
            raise
        except Exception as exc:  # a job must end with a status, whatever went wrong
            log.exception("provisioning job %s of %s failed", status.job, status.event)
            status.state, status.message = "failed", f"the job stopped: {exc}"
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            status.finished_at = self._now()
            with contextlib.suppress(Exception):
                await saver.save()

    async def close(self) -> None:
        """Stop running jobs (their status says so)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _Saver:
    """Writes one job's status, one write at a time so an older one never lands last."""

    def __init__(self, broker: Broker, status: JobStatus, clock: Callable[[], float]) -> None:
        self._broker = broker
        self.status = status
        self._clock = clock
        self._lock = asyncio.Lock()
        self.lost = False  # the status went unsaved too long: the job was stopped

    async def save(self) -> None:
        async with self._lock:
            stored = _Stored(status=self.status, alive_until=self._clock() + ALIVE_S)
            await self._broker.value_put(
                STATUS_KEY + self.status.event, stored.model_dump_json().encode(), STATUS_TTL_S
            )

    async def beat(self, work: asyncio.Task[None]) -> None:
        """Renew ``alive_until``; stop ``work`` once that failed for ``ALIVE_S``.

        By then every process reads the job as failed, and the next start
        begins a fresh one: this one must not go on beside it.
        """
        saved = self._clock()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                async with asyncio.timeout(ALIVE_S):
                    await self.save()
                saved = self._clock()
            except Exception as exc:  # the broker may be away for a moment; try again
                log.warning("provisioning status not saved: %s", exc)
                if self._clock() - saved >= ALIVE_S:
                    log.error(
                        "provisioning job %s of %s stopped: status unsaved for %g s",
                        self.status.job,
                        self.status.event,
                        ALIVE_S,
                    )
                    self.lost = True
                    work.cancel()
                    return
