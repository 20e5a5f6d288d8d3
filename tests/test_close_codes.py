"""One set of close codes: the pages' module is generated from the server's enum."""

from __future__ import annotations

import re

from hubs_bridge.close_codes import CLOSE_FOR_STATUS, CloseCode, close_for_status, javascript_module
from hubs_bridge.errors import ClientError
from hubs_bridge.web.pages.render import STATIC_DIR

MODULE = STATIC_DIR / "js" / "close-codes.js"


def test_the_pages_module_is_generated_from_the_enum() -> None:
    assert MODULE.read_text() == javascript_module(), (
        "close-codes.js is stale: python -m hubs_bridge.close_codes > " + str(MODULE)
    )


def test_no_script_writes_a_close_code_as_a_number() -> None:
    numbers = "|".join(str(code.value) for code in CloseCode)
    for path in (STATIC_DIR / "js").glob("*.js"):
        if path == MODULE:
            continue
        found = re.findall(rf"(?:code\s*===?\s*|\.close\()({numbers})\b", path.read_text())
        assert not found, f"{path.name} writes close codes {found}: use CLOSE from close-codes.js"


def test_every_client_error_has_its_close_code() -> None:
    # The one table from an error's HTTP status to a refused hello's close code.
    statuses = {cls.status for cls in _subclasses(ClientError)}
    assert statuses <= set(CLOSE_FOR_STATUS), statuses - set(CLOSE_FOR_STATUS)
    assert close_for_status(404) is CloseCode.UNKNOWN_EVENT
    assert close_for_status(429) is CloseCode.TOO_MANY


def _subclasses(cls: type[ClientError]) -> list[type[ClientError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found
