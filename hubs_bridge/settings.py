"""Settings: ``config/hubs-bridge.toml`` overridden by ``HUBS_BRIDGE_*`` variables.

Precedence, highest first: arguments to ``Settings(...)`` (tests), environment
variables (nested with ``__``, e.g. ``HUBS_BRIDGE_HUBS__URL``), the TOML file
named by ``HUBS_BRIDGE_CONFIG`` (default ``config/hubs-bridge.toml`` when it
exists), then the defaults below.

Secrets (``SecretStr`` fields) are accepted only from the environment: a TOML
file is checked into repositories and copied around, so a secret found there
stops start-up instead of being used. Unknown variables and keys stop start-up
too, and every error names its real source (``settings_sources.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from hubs_bridge.errors import ConfigError
from hubs_bridge.settings_sources import (
    CONFIG_VARIABLE,
    ENV_PREFIX,
    NESTED_DELIMITER,
    SecretFreeToml,
    StrictEnv,
    blame,
    describe,
)

DEFAULT_CONFIG_FILE = Path("config/hubs-bridge.toml")


class _Section(BaseModel):
    """A table of the settings: an unknown key in it (a typo) stops start-up, naming it."""

    model_config = ConfigDict(extra="forbid")


class HubsSettings(_Section):
    """How to reach the town's Hubs server (Reticulum). No ``url``: the bridge is off."""

    url: str | None = None
    bot_access_key: SecretStr | None = None
    admin_access_key: SecretStr | None = None
    api_token: SecretStr | None = None
    # The bot's Hubs account (a Ret.Guardian account token, as the Hubs web client
    # keeps it after the e-mail sign-in; docs/hubs-bridge.md): the bridge signs in
    # with it on each room's channel and owns the rooms it made (close, settings,
    # mute, kick from inside Hubs).
    account_token: SecretStr | None = None
    # The Hubs server's features|max_room_size (Reticulum's default 50); a larger
    # room_size is refused with 422, so capacities are cut to it.
    max_room_size: int = Field(default=50, ge=1, le=1000)
    bot_name: str = Field(default="StadtLABOR", min_length=1, max_length=64)
    # Every room API call of a process (create, update, delete) is spaced by this:
    # Reticulum allows one per fixed 1-second window per client address (pacer.py).
    create_interval_s: float = Field(default=1.1, ge=0)
    # Chat lines starting with one of these (case-insensitive) become questions.
    question_prefixes: list[Annotated[str, StringConstraints(min_length=2, max_length=20)]] = Field(
        default_factory=lambda: ["/frage ", "/question "], min_length=1, max_length=10
    )
    # At most one message into a room's chat per interval (notices are coalesced).
    chat_interval_s: float = Field(default=2.0, ge=0.2, le=60)
    # How often one process looks for ended events whose rooms are still open.
    close_interval_s: float = Field(default=30.0, gt=0)
    # Redirects /go handed out count as arrivals in flight for this long
    # (until the bridge sees the people in Hubs).
    arrival_window_s: float = Field(default=30.0, ge=0)

    _url = field_validator("url", mode="before")(lambda v: _base_url(v))
    # docker-compose passes unset secrets as "": that means "not configured", never
    # an empty key or token sent to the Hubs server.
    _unset = field_validator(
        "bot_access_key", "admin_access_key", "api_token", "account_token", mode="before"
    )(lambda v: None if isinstance(v, str) and not v.strip() else v)

    @field_validator("question_prefixes")
    @classmethod
    def _prefixes_have_text(cls, prefixes: list[str]) -> list[str]:
        # A blank prefix would make every chat line a question: ordinary chat stored.
        if any(not p.strip() for p in prefixes):
            raise ValueError("a question prefix must contain more than spaces")
        return prefixes


class LimitSettings(_Section):
    """Size limits on every input; the defaults suit a town's events."""

    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # A scene's GLB, from a pack folder or an upload (an upload is cut off past it).
    max_scene_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_rooms_per_event: int = Field(default=50, ge=1, le=500)
    max_events: int = Field(default=1000, ge=1)


class RealtimeSettings(_Section):
    """Websocket sessions, fan-out and presence."""

    # Origins allowed to open /ws besides the server's own; "*" allows any.
    allowed_origins: list[str] = Field(default_factory=list)
    send_queue_bytes: int = Field(default=256 * 1024, ge=4096)
    max_frame_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    frames_per_second: float = Field(default=20.0, gt=0)
    frames_burst: int = Field(default=40, ge=1)
    # Errors for going over a limit before the session is closed.
    max_violations: int = Field(default=5, ge=1)
    sessions_per_visitor: int = Field(default=8, ge=1)
    # New visitor ids handed out per minute to one network address (counted in memory
    # only, never stored). Generous: a whole school class may share one address.
    new_visitors_per_minute: int = Field(default=120, ge=1)
    hello_timeout_s: float = Field(default=10.0, gt=0)
    ping_interval_s: float = Field(default=20.0, gt=0)
    idle_timeout_s: float = Field(default=90.0, gt=0)
    presence_ttl_s: float = Field(default=30.0, ge=1)
    attendance_interval_s: float = Field(default=1.0, gt=0)
    history_size: int = Field(default=1000, ge=10)
    # SIGTERM: sessions are told to come back after a random delay in this window.
    reconnect_min_ms: int = Field(default=500, ge=0)
    reconnect_max_ms: int = Field(default=5000, ge=0)


class QaLimits(_Section):
    """Q&A limits for every event (per-event rules are in the event's ``qa`` settings)."""

    questions_per_minute: int = Field(default=3, ge=1)
    question_burst: int = Field(default=3, ge=1)
    votes_per_minute: int = Field(default=60, ge=1)
    vote_burst: int = Field(default=30, ge=1)
    # Vote counts of one question go out at most once per this interval per process.
    vote_flush_s: float = Field(default=0.25, gt=0)
    # Files with one filter term per line (German and English lists ship in config/).
    word_filter_dir: Path | None = Path("config/wordfilter")
    announcement_max_chars: int = Field(default=500, ge=10, le=2000)
    # Poll answers per visitor (a changed answer counts again) and how often a poll's
    # results go out, shared by every process: every 0.3 s keeps each page at 4 result
    # frames a second at most, with room for the jitter of delivery.
    poll_answers_per_minute: int = Field(default=30, ge=1)
    poll_answer_burst: int = Field(default=10, ge=1)
    poll_flush_s: float = Field(default=0.3, gt=0)


class Settings(BaseSettings):
    """All settings of one hubs-bridge process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        extra="forbid",
        validate_default=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Absolute base URL this server is reached at from outside (scheme://host[:port]).
    # Hubs clients load scenes by absolute URL; without it, URLs follow the request's Host.
    public_url: str | None = None
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks). Without
    # them, every visitor behind a proxy shares the proxy's address, and with it the
    # per-address limits (new visitor ids, /go).
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list, max_length=50)
    data_dir: Path = Path("data")
    scenes_dir: Path = Path("room_scenes")
    # Uploaded scene files, by content hash (scenes/blobs.py); unset: <data_dir>/scene-blobs.
    # Every process of an installation must see the same folder (a shared volume).
    scene_blobs_dir: Path | None = None
    seed_dir: Path | None = Path("config/events")
    redis_url: SecretStr | None = None
    # Each backend by its own URL (the scheme picks it); redis_url is the short form for
    # both. Unset: redis_url, else SQLite in data_dir and the in-memory broker.
    store_url: SecretStr | None = None  # sqlite://<path of the file> or redis://...
    broker_url: SecretStr | None = None  # memory:// or redis://...
    redis_prefix: str = Field(default="hubs-bridge", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    retention_days: int = Field(default=180, ge=1, le=3650)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"

    secret_key: SecretStr | None = None
    staff_token: SecretStr | None = None

    hubs: HubsSettings = Field(default_factory=HubsSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)
    qa: QaLimits = Field(default_factory=QaLimits)

    _public_url = field_validator("public_url", mode="before")(lambda v: _base_url(v))
    # An empty value switches seeding off (HUBS_BRIDGE_SEED_DIR=""), not "seed from here".
    _seed_dir = field_validator("seed_dir", mode="before")(lambda v: None if v == "" else v)
    _blobs_dir = field_validator("scene_blobs_dir", mode="before")(lambda v: None if v == "" else v)

    @field_validator("secret_key", "staff_token", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: object) -> object:
        # A blank variable (a template left empty) means "not given": the key is then
        # generated once and kept in the store, never an empty signing key.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        # It signs visitor ids: a short key could be found by trying, and ids forged.
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long (e.g. openssl rand -hex 32)")
        return value

    @field_validator("staff_token")
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Anyone who guesses it is staff; 32 characters (e.g. openssl rand -hex 16)
        # make guessing hopeless even at thousands of tries a second.
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, StrictEnv(settings_cls)]
        config_file = _config_file()
        if config_file is not None:
            sources.append(SecretFreeToml(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("store_url", "broker_url", mode="before")
    @classmethod
    def _blank_url_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("store_url")
    @classmethod
    def _store_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        return _with_scheme(value, STORE_SCHEMES)

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        return _with_scheme(value, BROKER_SCHEMES)

    def store_target(self) -> str:
        """The store's URL: ``store_url``, else ``redis_url``, else SQLite in ``data_dir``."""
        for url in (self.store_url, self.redis_url):
            if url is not None:
                return url.get_secret_value()
        return "sqlite://" + str(self.data_dir / SQLITE_FILE)

    def scene_blobs_path(self) -> Path:
        """Where uploaded scene files are kept: ``scene_blobs_dir``, else in ``data_dir``."""
        return self.scene_blobs_dir or self.data_dir / "scene-blobs"

    def broker_target(self) -> str:
        """The broker's URL (also the rate limiters'): ``broker_url``, else ``redis_url``,
        else ``memory://`` (one process)."""
        for url in (self.broker_url, self.redis_url):
            if url is not None:
                return url.get_secret_value()
        return "memory://"

    @property
    def redis_url_redacted(self) -> str | None:
        """The Redis URL with any password hidden, for logs."""
        if self.redis_url is None:
            return None
        url = self.redis_url.get_secret_value()
        scheme, sep, rest = url.partition("://")
        if "@" in rest:
            rest = "***@" + rest.split("@", 1)[1]
        return scheme + sep + rest


SQLITE_FILE = "hubs-bridge.sqlite3"
REDIS_SCHEMES = ("redis", "rediss", "unix")
STORE_SCHEMES = ("sqlite", *REDIS_SCHEMES)
BROKER_SCHEMES = ("memory", *REDIS_SCHEMES)


def scheme_of(url: str) -> str:
    return url.partition("://")[0].lower() if "://" in url else ""


def _with_scheme(value: SecretStr | None, schemes: tuple[str, ...]) -> SecretStr | None:
    if value is not None and scheme_of(value.get_secret_value()) not in schemes:
        raise ValueError("must start with " + " or ".join(f"{s}://" for s in schemes))
    return value


def _base_url(value: Any) -> Any:
    """Accept ``http(s)://host[:port][/path]`` and drop a trailing slash."""
    if isinstance(value, str):
        value = value.strip().rstrip("/")
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
    return value


def _config_file() -> Path | None:
    named = os.environ.get(CONFIG_VARIABLE)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(CONFIG_VARIABLE, f"file {path} does not exist")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; the first problem becomes one :class:`ConfigError` naming its source.

    ``overrides`` are command-line options (``--host``, ``--port``) or a test's values.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        source = blame(first["loc"], overrides=overrides, environ=os.environ, file=_config_file())
        raise ConfigError(source, describe(first, Settings, source)) from None
    except SettingsError as exc:  # a source failed in a way no check above foresaw
        raise ConfigError("settings", str(exc).splitlines()[0]) from None
