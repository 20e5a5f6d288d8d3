"""What a page should show, derived from the moderators' JSON export; no I/O.

The export (``/api/events/{event}/questions.json``) is the store's truth in the
moderator view. From each row this module derives, independently of the
server's own ``qa.visible_to``/``public_view``, what docs/protocol.md says each
kind of page sees: moderators everything; a question's authors their own
questions unless deleted or merged, with ``mine`` and the reject reason;
everyone else the approved, undeleted, unmerged ones without moderation fields.
``version`` is not in the export, so it is left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from hubs_bridge.web.questions import EXPORT_COLUMNS

Viewer = Literal["moderator", "author", "visitor"]
# The export's columns every viewer sees: those up to ``updated_at`` (the rest are the
# moderation's own).
SHARED_FIELDS = EXPORT_COLUMNS[: EXPORT_COLUMNS.index("updated_at") + 1]


def visible(row: Mapping[str, Any], viewer: Viewer) -> bool:
    if viewer == "moderator":
        return True
    if row["deleted_at"] is not None or row["status"] == "merged":
        return False
    return viewer == "author" or row["status"] == "approved"


def expected_view(row: Mapping[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The question as ``viewer`` should have it, ``version`` aside."""
    if viewer == "moderator":
        return dict(row)
    view = {key: row[key] for key in SHARED_FIELDS}
    if viewer == "author":
        view["mine"] = True
    if row["status"] == "rejected":
        view["reject_reason"] = row["reject_reason"]
    return view


def shown(question: Mapping[str, Any]) -> dict[str, Any]:
    """A page's copy of a question, comparable with :func:`expected_view`."""
    return {key: value for key, value in question.items() if key != "version"}


def differences(
    page: Mapping[str, Mapping[str, Any]],
    rows: Iterable[Mapping[str, Any]],
    viewer_of: Callable[[str], Viewer],
) -> list[str]:
    """How a page's questions differ from what the export says it should show (empty: equal)."""
    expected = {
        row["id"]: expected_view(row, viewer_of(row["id"]))
        for row in rows
        if visible(row, viewer_of(row["id"]))
    }
    problems = [f"missing {qid}: {expected[qid]}" for qid in expected.keys() - page.keys()]
    problems += [f"extra {qid}: {dict(page[qid])}" for qid in page.keys() - expected.keys()]
    for qid in expected.keys() & page.keys():
        have = shown(page[qid])
        if have != expected[qid]:
            keys = sorted(set(have) | set(expected[qid]))
            diff = {
                k: (have.get(k), expected[qid].get(k))
                for k in keys
                if have.get(k) != expected[qid].get(k)
            }
            problems.append(f"{qid} differs (page, export): {diff}")
    return problems
