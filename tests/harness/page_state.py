"""What a page holds, built from frames exactly as ``live.js`` and the pages build it; no I/O.

The rules mirror ``hubs_bridge/web/pages/static/js/live.js`` (stream position,
duplicates skipped, a gap or a foreign epoch refused) and ``visitor.js`` /
``moderator.js`` (a question replaced by id unless the page has a newer version,
``hidden`` removes it, ``votes`` replaces counts, acks applied like the pages do).
Where the browser would reconnect (a gap, another epoch without a snapshot), this
model raises :class:`StreamBroken`: the server promises that never happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class StreamBroken(AssertionError):
    """The server broke its promise of one gap-free, duplicate-free stream per epoch."""


@dataclass
class PageState:
    epoch: str | None = None
    seq: int = 0
    role: str | None = None
    visitor: str | None = None
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)
    voted: set[str] = field(default_factory=set)
    # How the page came back each time: counts that make a run's coverage visible.
    welcomes: int = 0
    recovered: int = 0
    snapshots: int = 0

    def resume(self) -> dict[str, Any] | None:
        """The ``resume`` of the next ``hello``: the last position this page applied."""
        return None if self.epoch is None else {"epoch": self.epoch, "seq": self.seq}

    def apply(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "welcome":
            self._welcome(frame)
        elif kind == "snapshot":
            self.snapshots += 1
            self.epoch, self.seq = frame["epoch"], frame["seq"]
            self._take(frame["snapshot"])
        elif kind == "ack":
            self._ack(frame)
        elif "seq" in frame and "epoch" in frame:
            self._stream(frame)
        # pong, error, bye: no state of the page changes

    def _welcome(self, frame: dict[str, Any]) -> None:
        self.welcomes += 1
        self.role = frame["role"]
        self.visitor = frame["visitor"]
        self.epoch, self.seq = frame["epoch"], frame["seq"]
        if frame["recovered"]:
            # Resumed: the page keeps its own state and applies the missed frames that follow.
            self.recovered += 1
        else:
            self._take(frame["snapshot"])

    def _take(self, snapshot: dict[str, Any]) -> None:
        self.questions = {q["id"]: dict(q) for q in snapshot["qa"]["questions"]}
        self.voted = set(snapshot["qa"]["voted"])

    def _stream(self, frame: dict[str, Any]) -> None:
        if frame["epoch"] != self.epoch:
            raise StreamBroken(f"a frame of epoch {frame['epoch']} without a snapshot first")
        if frame["seq"] <= self.seq:
            return  # a duplicate: live.js skips it
        if frame["seq"] != self.seq + 1:
            raise StreamBroken(f"gap: at {self.seq}, got {frame['seq']}")
        self.seq = frame["seq"]
        if frame["type"] == "question":
            self.upsert(frame["question"])
        elif frame["type"] == "votes":
            for qid, count in frame["counts"].items():
                if qid in self.questions:
                    self.questions[qid]["votes"] = count

    def upsert(self, question: dict[str, Any]) -> None:
        if question.get("hidden"):
            self.questions.pop(question["id"], None)
            return
        known = self.questions.get(question["id"])
        # An older copy (a stream frame after the ack of a later action) never wins.
        if known is not None and known["version"] > question["version"]:
            return
        self.questions[question["id"]] = dict(question)

    def _ack(self, frame: dict[str, Any]) -> None:
        question = frame.get("question")
        if question is None:
            return  # an announcement
        if "voted" in frame:
            # visitor.js: the ack's exact count and the page's own vote, at once.
            (self.voted.add if frame["voted"] else self.voted.discard)(question["id"])
            if question["id"] in self.questions:
                self.questions[question["id"]]["votes"] = frame["votes"]
        else:
            self.upsert(question)
