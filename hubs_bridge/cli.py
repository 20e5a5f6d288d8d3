"""The ``hubs-bridge`` command: serve, check scenes, hand out tokens.

Errors a user can fix (a wrong setting, an unreachable store) end the command
with one line naming the problem and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from hubs_bridge import __version__
from hubs_bridge.errors import ConfigError, HubsBridgeError
from hubs_bridge.settings import Settings, load_settings, scheme_of


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubs-bridge", description="Companion server for Mozilla Hubs rooms."
    )
    parser.add_argument("--version", action="version", version=f"hubs-bridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="address to listen on (default from settings: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default from settings: 8080)")

    scenes = commands.add_parser("scenes", help="work with the scene library")
    scene_commands = scenes.add_subparsers(dest="scenes_command", required=True)
    check = scene_commands.add_parser("check", help="validate scene packs or GLB files")
    check.add_argument("path", nargs="?", type=Path, help="library, pack folder or .glb file")

    sim = commands.add_parser(
        "simulate-hubs", help="run a local Hubs server (Reticulum) simulator with avatars"
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=4000)
    sim.add_argument(
        "--avatars", type=int, default=0, help="simulated people coming and going in every room"
    )
    sim.add_argument("--seed", type=int, default=None, help="make the crowd repeatable")
    sim.add_argument(
        "--lenient",
        action="store_true",
        help="demo-friendly: no request throttle, rooms made over POST get no default scene",
    )

    provision = commands.add_parser(
        "provision", help="create an event's rooms on the Hubs server (HUBS_BRIDGE_HUBS__URL)"
    )
    provision.add_argument("event", help="event slug")

    token = commands.add_parser("token", help="manage staff and moderator tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--role", choices=["staff", "moderator"], required=True)
    create.add_argument(
        "--event", action="append", default=[], help="event slug a moderator may moderate"
    )
    create.add_argument("--label", default="", help="who or what the token is for")
    token_commands.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            overrides = {k: v for k in ("host", "port") if (v := getattr(args, k)) is not None}
            return _serve(load_settings(**overrides))
        settings = load_settings()
        if args.command == "simulate-hubs":
            return _simulate(settings, args)
        if args.command == "provision":
            return asyncio.run(_provision(settings, args.event))
        if args.command == "scenes":
            from hubs_bridge.scenes.report import run_check

            path = args.path or settings.scenes_dir
            return run_check(path, max_bytes=settings.limits.max_scene_bytes, out=sys.stdout)
        if args.command == "token":
            return asyncio.run(_token(settings, args))
    except ConfigError as exc:
        # ``setting`` names the source: a variable, "<file>: [table] key" or an option.
        print(f"hubs-bridge: error: {exc.setting}: {exc.message}", file=sys.stderr)
        return 2
    except HubsBridgeError as exc:
        print(f"hubs-bridge: error: {exc}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse requires a command


LISTEN_BACKLOG = 1024


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard one; the soft limit now.

    Every websocket is an open file, and container runtimes and many systems start
    processes at 1,024 while allowing far more (the hard limit).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # some systems refuse RLIM_INFINITY as a soft limit
            return soft
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _backend(url: str) -> str:
    """A backend as the start-up line names it: never a password or a Redis address."""
    scheme = scheme_of(url)
    return f"sqlite in {url.partition('://')[2]}" if scheme == "sqlite" else scheme


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from hubs_bridge.logs import setup_logging
    from hubs_bridge.web.app import create_app

    setup_logging(settings.log_level, settings.log_format)
    print(
        f"hubs-bridge {__version__} on http://{settings.host}:{settings.port}/ "
        f"(store: {_backend(settings.store_target())}, "
        f"broker: {_backend(settings.broker_target())}, "
        f"open files: {raise_open_files_limit()})",
        file=sys.stderr,
        flush=True,
    )
    web.run_app(
        create_app(settings),
        loop=_new_loop(),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        shutdown_timeout=8.0,
        # At the start of an event (or after a restart) thousands of pages connect at
        # once; past the default backlog of 128 their connections wait for TCP's 1 s SYN
        # retry (docs/benchmarks.md, the storm). The kernel caps it at somaxconn.
        backlog=LISTEN_BACKLOG,
    )
    return 0


async def _provision(settings: Settings, event: str) -> int:
    """Create the event's missing Hubs rooms, one line of progress per room."""
    from hubs_bridge.calendar_service import CalendarService
    from hubs_bridge.hubs.provision import hubs_url, provision_event
    from hubs_bridge.hubs.rooms_api import HubsApi, new_session
    from hubs_bridge.scene_catalog import open_catalog
    from hubs_bridge.store import open_store

    hubs_url(settings)
    store = await open_store(settings)
    # The pack folders and every uploaded version, as the server sees them.
    library = (await open_catalog(settings, store)).library
    http = new_session()
    try:
        calendar = CalendarService(store, lambda: library.scenes.keys(), settings.limits)
        results = await provision_event(
            calendar,
            library,
            settings,
            HubsApi(settings.hubs, lambda: http),
            event,
            progress=lambda room, state, message: print(f"{room}: {state} {message}", flush=True),
        )
    finally:
        await http.close()
        await store.close()
    failed = [r for r in results if r.state == "failed"]
    print(f"{len(results) - len(failed)} of {len(results)} rooms ready", file=sys.stderr)
    return 1 if failed else 0


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from hubs_bridge.hubs.simulator import serve_simulator

    admin = settings.hubs.admin_access_key
    bot = settings.hubs.bot_access_key
    loop = _new_loop()
    main = loop.create_task(
        serve_simulator(
            args.host,
            args.port,
            args.avatars,
            admin.get_secret_value() if admin else None,
            bot.get_secret_value() if bot else None,
            seed=args.seed,
            lenient=args.lenient,
        )
    )
    # Ctrl-C and SIGTERM cancel the simulator, which then stops its rooms and crowd
    # cleanly (a KeyboardInterrupt through run_until_complete would leave it half-run).
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main.cancel)
    try:
        loop.run_until_complete(main)
    except asyncio.CancelledError:
        pass
    finally:
        loop.close()
    return 0


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (faster socket I/O for many connections), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _token(settings: Settings, args: argparse.Namespace) -> int:
    from hubs_bridge.auth import new_token
    from hubs_bridge.store import open_store

    store = await open_store(settings)
    try:
        if args.token_command == "create":
            if args.role == "moderator" and not args.event:
                print("hubs-bridge: error: a moderator token needs --event SLUG", file=sys.stderr)
                return 2
            for slug in args.event:
                if await store.get_event(slug) is None:
                    print(f"hubs-bridge: error: no event {slug!r}", file=sys.stderr)
                    return 2
            secret, record = new_token(
                args.role, events=tuple(args.event), label=args.label, now=datetime.now(UTC)
            )
            await store.add_token(record)
            print(secret)
            print(
                f"token {record.token_id} ({record.role}"
                + (f" for {', '.join(record.events)}" if record.events else "")
                + "): shown only now, keep it safe",
                file=sys.stderr,
            )
        elif args.token_command == "list":
            for rec in await store.list_tokens():
                state = "revoked" if rec.revoked else "active"
                events = ",".join(rec.events) or "-"
                print(f"{rec.token_id}\t{rec.role}\t{events}\t{state}\t{rec.label}")
        elif args.token_command == "revoke":
            if not await store.revoke_token(args.token_id):
                print(f"hubs-bridge: error: no active token {args.token_id!r}", file=sys.stderr)
                return 2
            print(f"token {args.token_id} revoked")
    finally:
        await store.close()
    return 0
