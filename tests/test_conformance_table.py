"""Every row of the Reticulum conformance table names tests, and every named test exists."""

from __future__ import annotations

import re

from tests.conftest import REPO

TABLE = REPO / "docs" / "reticulum" / "PROTOCOL.md"
NAMED = re.compile(r"`(test_\w+\.py)::(test_\w+)`")


def test_every_row_has_tests_that_exist() -> None:
    text = TABLE.read_text(encoding="utf-8")
    section = text.split("## 9. Conformance", 1)[1]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) >= 25
    for row in rows:
        named = NAMED.findall(row.rsplit("|", 2)[-2])
        assert named, f"row without a test: {row[:80]}"
        for module, test in named:
            source = (REPO / "tests" / module).read_text(encoding="utf-8")
            assert re.search(rf"def {test}\(", source), f"{module}::{test} does not exist"
