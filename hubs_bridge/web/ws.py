"""``GET /ws``: the websocket gateway. Frames in, commands to the real-time service.

Everything a page sends is checked here before it reaches the service: size,
rate, JSON, type, fields, role. A bad frame gets an ``error`` frame and
changes nothing; a session that keeps sending bad frames or goes over its
rate is closed. Nothing a client sends can crash or stall the others.

Before ``hello`` a session is counted against its client address
(``hello_gate.py``, at most :data:`UNFINISHED_PER_ADDRESS` at once, 429
``too_many_unfinished`` before the upgrade past that), and a ``hello`` with a
token is refused ``rate_limited`` (close 4429) without checking the token once
its address has failed too often (``auth.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from hubs_bridge.auth import VISITOR, Authenticator, Principal
from hubs_bridge.close_codes import CloseCode, close_for_status
from hubs_bridge.core import polls, qa
from hubs_bridge.errors import ClientError, HubsBridgeError, RateLimited
from hubs_bridge.poll_service import PollService
from hubs_bridge.protocol import (
    Announce,
    Ask,
    ClientFrames,
    Enter,
    FrameError,
    Hello,
    Leave,
    Moderate,
    Ping,
    PollAnswer,
    Vote,
    encode,
    error_frame,
    parse_client_frame,
)
from hubs_bridge.qa_service import QaService
from hubs_bridge.realtime.open_pages import OpenPages
from hubs_bridge.realtime.service import RealtimeService
from hubs_bridge.realtime.session import Session
from hubs_bridge.web.client_address import client_address
from hubs_bridge.web.errors import error_response
from hubs_bridge.web.hello_gate import HelloGate, Place
from hubs_bridge.web.keys import AUTH, BROKER, CALENDAR, POLLS, QA, REALTIME, SETTINGS

log = logging.getLogger("hubs_bridge.ws")

# aiohttp's reader holds a message until it is complete, so its cap bounds what one
# session can make the server hold (1 MiB before: 300 sessions each holding a started
# message took +282 MB). Twice the protocol's frame limit: a frame a little over the
# limit (a long question pasted) still gets a clear error frame, a larger one is
# refused by aiohttp with close code 1009.
READ_CAP_FRAMES = 2

# Sessions per client address that have not sent their first frame (a module constant,
# no setting yet): with the reader's cap of 32 KiB, at most 2 MiB of unfinished input
# per address, and room for a crowd behind one NAT (a school class told "now") whose
# pages all connect at once while the server is busy.
UNFINISHED_PER_ADDRESS = 64

HELLO_GATE: web.AppKey[HelloGate] = web.AppKey("hello_gate")


def install_ws(app: web.Application) -> None:
    """``GET /ws`` and its per-address gate for sessions before ``hello``."""
    app[HELLO_GATE] = HelloGate(UNFINISHED_PER_ADDRESS)
    app.router.add_get("/ws", ws_handler)


def origin_allowed(request: web.Request, allowed: list[str], public_url: str | None) -> bool:
    """Browsers send Origin; pages of this server and the configured origins may connect.

    Behind a reverse proxy the request's own host may differ from what the
    browser sees, so the configured public URL counts as this server too.
    """
    origin = request.headers.get("Origin")
    if origin is None or "*" in allowed:
        return True  # not a browser (bots, tests, the load generator), or open by choice
    origin = origin.rstrip("/").lower()
    own = {f"{request.scheme}://{request.host}".lower()}
    if public_url:
        scheme, _, rest = public_url.partition("://")
        own.add(f"{scheme}://{rest.split('/', 1)[0]}".lower())
    return origin in own or origin in {o.rstrip("/").lower() for o in allowed}


async def ws_handler(request: web.Request) -> web.StreamResponse:
    service = request.app[REALTIME]
    settings = request.app[SETTINGS].realtime
    if not service.accepting:
        return error_response(503, "shutting_down", "the server is restarting; try again")
    if not origin_allowed(request, settings.allowed_origins, request.app[SETTINGS].public_url):
        return error_response(403, "origin_not_allowed", "this origin may not connect")
    address = client_address(request)
    place = request.app[HELLO_GATE].enter(address)
    if place is None:
        refusal = error_response(
            429,
            "too_many_unfinished",
            "Zu viele Verbindungen dieser Adresse ohne hello; bitte gleich erneut versuchen. / "
            "Too many connections from this address have not sent hello yet; try again.",
        )
        # The places free up within hello_timeout_s at the latest.
        refusal.headers["Retry-After"] = str(max(1, math.ceil(settings.hello_timeout_s)))
        return refusal
    try:
        return await _session(request, service, address, place)
    finally:
        place.release()


async def _session(
    request: web.Request, service: RealtimeService, address: str, place: Place
) -> web.StreamResponse:
    settings = request.app[SETTINGS].realtime
    ws = web.WebSocketResponse(
        # No per-session heartbeat: its timers and tasks for 10,000 sessions cost full
        # garbage collections of 300+ ms (docs/benchmarks.md). The service pings every
        # session from one loop instead (RealtimeService._housekeeping).
        heartbeat=None,
        max_msg_size=READ_CAP_FRAMES * settings.max_frame_bytes,
        compress=False,  # frames are written as raw bytes by the fan-out (see wire.py)
    )
    await ws.prepare(request)
    # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
    transport = request.transport
    if transport is None:
        return ws
    session: Session | None = None
    try:
        session = await _hello(request, ws, service, transport, address, place)
        if session is not None:
            commands = Commands(request.app[QA], request.app[POLLS])
            await _serve(ws, service, commands, session, request.app[AUTH])
    finally:
        if session is not None:
            await service.close_session(session)
            # /go still believes this visitor for a while (realtime/open_pages.py).
            with contextlib.suppress(HubsBridgeError):
                await OpenPages(request.app[BROKER], service.ids).closed(
                    session.event, session.visitor
                )
        if not ws.closed:
            await ws.close()
    return ws


async def _refuse(
    ws: web.WebSocketResponse, close_code: int, code: str, message: str, **extra: Any
) -> None:
    await ws.send_str(error_frame(code, message, **extra).decode())
    await ws.close(code=close_code, message=code.encode())


async def _hello(
    request: web.Request,
    ws: web.WebSocketResponse,
    service: RealtimeService,
    transport: asyncio.Transport,
    address: str,
    place: Place,
) -> Session | None:
    settings = request.app[SETTINGS].realtime
    try:
        msg: WSMessage | None = await ws.receive(timeout=settings.hello_timeout_s)
    except TimeoutError:
        msg = None
    finally:
        place.release()  # the first frame is in (or never will be): nothing unfinished
    if msg is None:
        await _refuse(ws, CloseCode.BAD_HELLO, "hello_timeout", "send hello first")
        return None
    if msg.type != WSMsgType.TEXT:
        if msg.type in (WSMsgType.BINARY,):
            await _refuse(
                ws, CloseCode.BAD_HELLO, "binary_not_supported", "frames must be JSON text"
            )
        return None
    service.metrics.frames_in.inc()
    service.metrics.bytes_in.inc(len(msg.data))
    try:
        frame = parse_client_frame(msg.data, settings.max_frame_bytes)
    except FrameError as exc:
        await _refuse(ws, CloseCode.BAD_HELLO, exc.code, exc.message)
        return None
    if not isinstance(frame, Hello):
        await _refuse(ws, CloseCode.BAD_HELLO, "hello_required", "the first frame must be hello")
        return None
    try:
        principal: Principal = await request.app[AUTH].authenticate(frame.token, address=address)
        event = await request.app[CALENDAR].get(frame.event)
    except RateLimited as exc:
        retry_after_ms = int(exc.retry_after_s * 1000) + 1
        await _refuse(ws, CloseCode.TOO_MANY, exc.code, exc.message, retry_after_ms=retry_after_ms)
        return None
    except ClientError as exc:
        if exc.status == 404:
            await _refuse(ws, CloseCode.UNKNOWN_EVENT, "unknown_event", f"no event {frame.event!r}")
        else:
            await _refuse(ws, close_for_status(exc.status), exc.code, exc.message)
        return None
    except HubsBridgeError as exc:
        log.warning("hello refused, store unavailable: %s", exc)
        await _refuse(ws, CloseCode.TRY_AGAIN, "unavailable", "the server cannot take sessions now")
        return None
    if principal.role == "moderator" and not principal.may_moderate(event.slug):
        principal = VISITOR  # a moderator of another event is a visitor here
    if frame.room is not None and event.room(frame.room) is None:
        await _refuse(ws, CloseCode.BAD_HELLO, "unknown_room", f"no room {frame.room!r}")
        return None
    ids = service.ids
    visitor = ids.verify(frame.visitor) if frame.visitor else None
    if visitor is None:
        # A fresh id is a fresh vote: how many one address may get is limited.
        per_minute = settings.new_visitors_per_minute
        if await service.identity_limiter.wait_ms(address, per_minute, per_minute):
            await _refuse(
                ws, CloseCode.TOO_MANY, "rate_limited_visitors", "too many new visitors; try again"
            )
            return None
        visitor, visitor_token = ids.issue()
    else:
        visitor_token = frame.visitor or ""
    try:
        return await service.open(
            hello=frame,
            event=event,
            principal=principal,
            visitor=visitor,
            visitor_token=visitor_token,
            socket=ws,
            transport=transport,
        )
    except ClientError as exc:  # too many pages of this visitor (429)
        await _refuse(ws, close_for_status(exc.status), exc.code, exc.message)
        return None
    except HubsBridgeError as exc:
        log.warning("session refused: %s", exc)
        await _refuse(ws, CloseCode.TRY_AGAIN, "unavailable", "the server cannot take sessions now")
        return None


@dataclass(frozen=True, slots=True)
class Commands:
    """The services a page's frames command (besides the real-time service itself)."""

    qa: QaService
    polls: PollService


async def _serve(
    ws: web.WebSocketResponse,
    service: RealtimeService,
    commands: Commands,
    session: Session,
    auth: Authenticator,
) -> None:
    settings = service.settings
    async for msg in ws:
        if not session.is_open:
            break
        now = time.monotonic()
        session.last_seen = now
        service.metrics.frames_in.inc()
        if msg.type == WSMsgType.TEXT:
            service.metrics.bytes_in.inc(len(msg.data))
            wait = session.bucket.take(now)
            if wait > 0:
                _violation(
                    service,
                    session,
                    "rate_limited",
                    "too many frames; slow down",
                    retry_after_ms=int(wait * 1000) + 1,
                )
                continue
            try:
                frame = parse_client_frame(msg.data, settings.max_frame_bytes)
                if isinstance(frame, Moderate | Announce) and not await auth.still_valid(
                    session.principal
                ):
                    await _revoked(ws, service, session, frame.ref)
                    break
                await _dispatch(service, commands, session, frame)
            except FrameError as exc:
                _violation(service, session, exc.code, exc.message, details=exc.details)
            except ClientError as exc:
                _violation(service, session, exc.code, exc.message)
            except HubsBridgeError as exc:
                # Not the page's fault: say so, keep the session.
                log.warning("frame not handled, backend unavailable: %s", exc)
                session.send(error_frame("unavailable", "try again in a moment"))
        elif msg.type == WSMsgType.BINARY:
            _violation(service, session, "binary_not_supported", "frames must be JSON text")
        elif msg.type == WSMsgType.ERROR:
            break
        if session.too_many_violations:
            session.send(encode({"type": "bye", "reason": "too_many_errors"}))
            service.metrics.closes.labels("too_many_errors").inc()
            await ws.close(code=CloseCode.POLICY, message=b"too_many_errors")
            break


async def _revoked(
    ws: web.WebSocketResponse, service: RealtimeService, session: Session, ref: str | None
) -> None:
    """The session's token was revoked since ``hello``: refuse, then close as a bad token."""
    session.send(error_frame("token_revoked", "this token was revoked", ref=ref))
    service.metrics.closes.labels("bad_token").inc()
    await ws.close(code=CloseCode.UNAUTHORIZED, message=b"bad_token")


def _violation(
    service: RealtimeService, session: Session, code: str, message: str, **extra: Any
) -> None:
    session.violation(time.monotonic())
    session.send(error_frame(code, message, **extra))


async def _dispatch(
    service: RealtimeService, commands: Commands, session: Session, frame: ClientFrames
) -> None:
    if isinstance(frame, Ping):
        session.send(encode({"type": "pong", "t": frame.t}))
    elif isinstance(frame, Hello):
        raise FrameError("hello_twice", "hello was already sent on this connection")
    elif isinstance(frame, Enter):
        event = await service.calendar.get(session.event)
        if event.room(frame.room) is None:
            raise FrameError("unknown_room", f"no room {frame.room!r}")
        await service.move(session, frame.room)
    elif isinstance(frame, Leave):
        if session.room == frame.room:
            await service.move(session, None)
    else:
        await _command(service, commands, session, frame)


async def _command(
    service: RealtimeService,
    commands: Commands,
    session: Session,
    frame: Ask | Vote | Moderate | Announce | PollAnswer,
) -> None:
    """Q&A and poll frames: every one answered by an ``ack`` (after the store has it) or an
    ``error``."""
    ref = frame.client_msg_id if isinstance(frame, Ask | PollAnswer) else frame.ref
    qa_service = commands.qa
    try:
        event = await service.calendar.get(session.event)
        moderator = session.principal.may_moderate(event.slug)

        def votes_of(question_id: str) -> int:
            return service.votes_seen(event.slug, question_id)

        def ack(**fields: Any) -> None:
            session.send(encode({"type": "ack", "ref": ref, **fields}))

        if isinstance(frame, PollAnswer):
            await commands.polls.answer(
                event=event,
                voter=session.visitor,
                poll_id=frame.poll,
                choices=frame.choices,
                text=frame.text,
                client_msg_id=frame.client_msg_id,
                acknowledge=lambda ballot: ack(answer=polls.own_answer(ballot)),
            )
        elif isinstance(frame, Ask):
            await qa_service.ask(
                event=event,
                visitor=session.visitor,
                text=frame.text,
                client_msg_id=frame.client_msg_id,
                room=frame.room,
                anonymous=frame.anonymous,
                name=frame.name or session.name,
                acknowledge=lambda q: ack(
                    question=qa.public_view(
                        q, votes_of(q.id), "moderator" if moderator else "author"
                    )
                ),
            )
        elif isinstance(frame, Vote):
            votes, _changed = await qa_service.vote(
                event=event, visitor=session.visitor, question_id=frame.question, up=frame.up
            )
            ack(votes=votes, voted=frame.up, question={"id": frame.question})
        elif isinstance(frame, Moderate):

            def ack_moderation(changes: list[qa.Question]) -> None:
                changed = next((c for c in changes if c.id == frame.question), changes[0])
                ack(question=qa.public_view(changed, votes_of(changed.id), "moderator"))

            await qa_service.moderate(
                principal=session.principal,
                event=event,
                action=frame.action,
                question_id=frame.question,
                reason=frame.reason,
                mode=frame.mode,
                text=frame.text,
                into=frame.into,
                acknowledge=ack_moderation,
            )
        else:
            await qa_service.announce(
                principal=session.principal,
                event=event,
                text=frame.text,
                rooms=frame.rooms,
                acknowledge=lambda announcement: ack(announcement=announcement),
            )
    except ClientError as exc:
        retry = getattr(exc, "retry_after_s", None)
        session.send(
            error_frame(
                exc.code,
                exc.message,
                ref=ref,
                details=exc.details,
                retry_after_ms=int(retry * 1000) + 1 if retry is not None else None,
                # The body's context keys too (max_chars, question); the wait is in ms here.
                **{k: v for k, v in exc.context.items() if k != "retry_after_s"},
            )
        )
        if exc.status in (401, 403):
            session.violation(time.monotonic())  # probing for rights counts against the page
    except HubsBridgeError as exc:
        log.warning("%s frame not handled, backend unavailable: %s", frame.type, exc)
        session.send(error_frame("unavailable", "try again in a moment", ref=ref))
