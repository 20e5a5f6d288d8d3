"""Where settings come from, and which source is named when one is wrong.

:class:`~hubs_bridge.settings.Settings` reads ``HUBS_BRIDGE_*`` environment
variables and one TOML file. Both sources are strict, because a setting that
is silently ignored is worse than one that stops start-up:

- every ``HUBS_BRIDGE_*`` variable must name a setting (or be one of
  :data:`EXTRA_VARIABLES`, read elsewhere); a typo is refused with the
  closest known name;
- a secret (a ``SecretStr`` field) may not appear anywhere in the file, in
  any table: TOML puts a key written after ``[hubs]`` into ``hubs``, so a
  ``staff_token`` at the end of the file would otherwise be an unknown key of
  another table rather than a secret found;
- a wrong value is reported against its real source: ``HUBS_BRIDGE_X: ...``
  for a variable, ``<file>: [table] key: ...`` for the file, ``--port: ...``
  for a command-line option (see :func:`blame`).
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from itertools import takewhile
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, TomlConfigSettingsSource

from hubs_bridge.errors import ConfigError

ENV_PREFIX = "HUBS_BRIDGE_"
NESTED_DELIMITER = "__"
CONFIG_VARIABLE = ENV_PREFIX + "CONFIG"
# Variables that are not settings but are read elsewhere: the config file's path
# (settings.py) and the Redis the test suite uses (tests/conftest.py). Known, so
# that running the tests or naming a config file is never refused as a typo.
EXTRA_VARIABLES = frozenset({CONFIG_VARIABLE, ENV_PREFIX + "TEST_REDIS_URL"})

SettingPath = tuple[str, ...]


def variable(path: SettingPath) -> str:
    """A setting's variable: ``("hubs", "url")`` is ``HUBS_BRIDGE_HUBS__URL``."""
    return ENV_PREFIX + NESTED_DELIMITER.join(part.upper() for part in path)


def _table_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def setting_paths(model: type[BaseModel]) -> Iterator[tuple[SettingPath, FieldInfo]]:
    """Every setting with its field: top-level ones, tables, and the keys of each table."""
    for name, field in model.model_fields.items():
        yield (name,), field
        table = _table_model(field)
        if table is not None:
            for key, inner in table.model_fields.items():
                yield (name, key), inner


def known_variables(model: type[BaseModel]) -> frozenset[str]:
    """Every ``HUBS_BRIDGE_*`` name that is read (a table as JSON is one, too)."""
    return frozenset(variable(path) for path, _ in setting_paths(model)) | EXTRA_VARIABLES


def secret_paths(model: type[BaseModel]) -> tuple[SettingPath, ...]:
    """The settings typed ``SecretStr``, found from the model so a new secret is never missed."""
    return tuple(
        path
        for path, field in setting_paths(model)
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    )


def _suggestion(name: str, known: Mapping[str, str]) -> str:
    """``; did you mean X?`` for the closest key of ``known`` (shown as its value), or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
    return f"; did you mean {known[close[0]]}?" if close else ""


def check_variables(environ: Mapping[str, str], model: type[BaseModel]) -> None:
    """Refuse the first ``HUBS_BRIDGE_*`` variable that names no setting."""
    known = known_variables(model)
    # pydantic-settings reads variables case-insensitively, so the check does too.
    unknown = sorted(
        n for n in environ if n.upper().startswith(ENV_PREFIX) and n.upper() not in known
    )
    if unknown:
        name = unknown[0]
        # Compared without the common prefix, which would make every name look close.
        tails = {k[len(ENV_PREFIX) :]: k for k in known}
        hint = _suggestion(name.upper()[len(ENV_PREFIX) :], tails)
        raise ConfigError(name, "unknown setting" + hint)


def place_in_file(file: Path, table: SettingPath, key: str) -> str:
    """How a key of the TOML file is named in a message: ``<file>: [table] key``."""
    return f"{file}: [{'.'.join(table)}] {key}" if table else f"{file}: {key}"


def check_no_secrets(data: Mapping[str, Any], file: Path, model: type[BaseModel]) -> None:
    """Refuse a secret's key anywhere in the file's data, in whichever table it landed."""
    secrets = secret_paths(model)
    by_key = {path[-1]: path for path in secrets}

    def walk(node: Any, table: SettingPath) -> None:
        if isinstance(node, list):  # arrays of tables ([[x]]) hide keys too
            for item in node:
                walk(item, table)
            return
        if not isinstance(node, Mapping):
            return
        for key, value in node.items():
            where = (*table, str(key))
            secret = where if where in secrets else by_key.get(str(key).lower())
            if secret is not None:
                raise ConfigError(
                    place_in_file(file, table, str(key)),
                    "secrets are never read from the config file; "
                    f"set {variable(secret)} in the environment instead",
                )
            walk(value, where)

    walk(data, ())


def read_toml(file: Path) -> dict[str, Any]:
    """The file's data; a syntax error or an unreadable file named as the file."""
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(file), f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(file), f"cannot be read: {exc.strerror or exc}") from None


class StrictEnv(EnvSettingsSource):
    """The environment source, refusing unknown variables and leaving bad JSON to pydantic."""

    def __call__(self) -> dict[str, Any]:
        check_variables(os.environ, self.settings_cls)
        return super().__call__()

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        # pydantic-settings turns a list or table value that is not JSON into a
        # SettingsError naming only the top-level field, not the variable. Passed on
        # as the raw string, pydantic refuses it with the field's path, which
        # blame() turns into the variable's name.
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class SecretFreeToml(TomlConfigSettingsSource):
    """The TOML file source, refusing secrets wherever they appear in the file."""

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path) -> None:
        super().__init__(settings_cls, toml_file=toml_file)
        check_no_secrets(self.toml_data, toml_file, settings_cls)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        return read_toml(Path(file_path))


def _in_json(raw: str, rest: SettingPath) -> bool:
    """Whether a table given as JSON in one variable holds the key path ``rest``."""
    try:
        node: Any = json.loads(raw)
    except ValueError:
        return not rest  # the variable's own value is what could not be read
    for part in rest:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def blame(
    loc: tuple[int | str, ...],
    *,
    overrides: Mapping[str, Any],
    environ: Mapping[str, str],
    file: Path | None,
) -> str:
    """The source of the value at ``loc``, in the precedence of the sources.

    Arguments (command-line options) win over variables, variables over the
    file; the first source holding the value is the one that was validated.
    """
    names: SettingPath = tuple(str(p) for p in takewhile(lambda p: isinstance(p, str), loc))
    if not names:
        return "settings"
    if names[0] in overrides:
        return "--" + names[0].replace("_", "-")
    by_upper = {name.upper(): name for name in environ}
    for depth in range(len(names), 0, -1):
        name = by_upper.get(variable(names[:depth]))
        if name is not None and (depth == len(names) or _in_json(environ[name], names[depth:])):
            return name
    if file is not None:
        node: Any = read_toml(file)
        for depth, part in enumerate(names):
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
            if depth == len(names) - 1 or not isinstance(node, dict):
                return place_in_file(file, names[:depth], part)
    return variable(names)


def describe(error: ErrorDetails, model: type[BaseModel], source: str) -> str:
    """One line for a pydantic error, with a hint where pydantic's own words fall short."""
    message = (error["msg"].splitlines() or ["invalid"])[0]
    if error["type"] == "extra_forbidden":
        *table, key = (str(p) for p in error["loc"])
        fields: type[BaseModel] | None = model
        for part in table:
            inner = fields.model_fields.get(part) if fields else None
            fields = _table_model(inner) if inner else None
        known = {k: k for k in fields.model_fields} if fields else {}
        return "unknown setting" + _suggestion(key, known)
    if source.startswith(ENV_PREFIX):
        # A variable holds text; lists and tables are read from it as JSON.
        if error["type"] == "list_type":
            return message + ' (write it as a JSON list, e.g. ["a", "b"])'
        if error["type"] in ("dict_type", "model_type"):
            return message + ' (write it as a JSON object, e.g. {"key": "value"})'
    return message
