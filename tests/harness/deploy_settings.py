"""The settings an operator reads about, for the tests of docker-compose.yml and deploy/k8s.

Every ``HUBS_BRIDGE_*`` variable the README names must be passed by each way of deploying,
except the few that docs/deploy.md lists, with the reason, under the heading below.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from hubs_bridge.settings import ENV_PREFIX, Settings
from tests.conftest import REPO

EXCEPTIONS_HEADING = "## Settings the deployments leave out"
_VARIABLE = re.compile(r"\bHUBS_BRIDGE_[A-Z0-9_]*[A-Z0-9]\b")


# Read by the settings loader itself, not a field of Settings.
CONFIG_VARIABLE = ENV_PREFIX + "CONFIG"


def is_setting(env_name: str) -> bool:
    """Whether ``HUBS_BRIDGE_A__B`` names a field ``a.b`` of :class:`Settings`."""
    parts = env_name.removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if i < len(parts) - 1:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def readme_settings() -> set[str]:
    """Every setting README.md names as ``HUBS_BRIDGE_*`` (placeholders such as
    ``HUBS_BRIDGE_X`` in an example message are not settings)."""
    names = set(_VARIABLE.findall((REPO / "README.md").read_text()))
    return {n for n in names if n == CONFIG_VARIABLE or is_setting(n)}


def documented_exceptions() -> set[str]:
    """The variables docs/deploy.md lists as left out of the deployments, each on a bullet."""
    text = (REPO / "docs" / "deploy.md").read_text()
    start = text.index(EXCEPTIONS_HEADING) + len(EXCEPTIONS_HEADING)
    end = text.find("\n## ", start)
    section = text[start : end if end != -1 else len(text)]
    bullets = [line for line in section.splitlines() if line.startswith("- `HUBS_BRIDGE_")]
    return {match.group(0) for line in bullets if (match := _VARIABLE.search(line))}
