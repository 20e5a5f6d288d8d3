"""Problems found while checking a scene: a stable ``code`` plus a message for people.

Codes are short snake_case strings that never change once published (the CLI
prints them, tests and operators grep for them); messages may be reworded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A hostile or badly broken file can produce one problem per accessor or node;
# past this many, the report stops growing and says so.
DEFAULT_PROBLEM_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning about a scene."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(slots=True)
class ProblemLog:
    """Errors and warnings collected while checking one scene, capped at ``limit`` each."""

    limit: int = DEFAULT_PROBLEM_LIMIT
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, code: str, message: str) -> None:
        _add(self.errors, Problem(code, message), self.limit)

    def warn(self, code: str, message: str) -> None:
        _add(self.warnings, Problem(code, message), self.limit)

    def has_errors(self) -> bool:
        return bool(self.errors)


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting untrusted input in messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _add(target: list[Problem], problem: Problem, limit: int) -> None:
    if len(target) < limit:
        target.append(problem)
    elif len(target) == limit:
        target.append(
            Problem("too_many_problems", f"more than {limit} problems; the rest are not listed")
        )
