"""The results as Markdown (CommonMark with GFM tables), for the town's website.

A website turns this text into HTML, so a visitor's text must not turn into
markup there: every character CommonMark would read as syntax is
backslash-escaped (CommonMark section 2.4: any ASCII punctuation may be), ``<``
and ``&`` too, so no HTML tag, entity, link or emphasis can come from a question.
"""

from __future__ import annotations

import re

from hubs_bridge.web.results_view import PollView, ResultsView

# Inline syntax anywhere in a line: emphasis, code, links and images, HTML, entities,
# table cells, strike-through, and the backslash itself.
_INLINE = re.compile(r"([\\`*_\[\]<>&|~])")
# Syntax only at the start of a line: headings, quotes, list items, thematic breaks.
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+(?=[.)]))")


def text(value: str) -> str:
    """People's text as literal Markdown inside a line (line breaks become spaces)."""
    return _INLINE.sub(r"\\\1", " ".join(value.split()))


def para(value: str) -> str:
    """Like :func:`text`, for text that starts a line: no list, quote or heading either."""
    return _LINE_START.sub(_escape_start, text(value))


def _escape_start(match: re.Match[str]) -> str:
    space, mark = match.group(1), match.group(2)
    if mark.isdigit():  # "1." or "2)" would start an ordered list
        return space + mark + "\\"
    return space + "\\" + mark


def block(value: str, indent: str = "") -> str:
    """People's text with its line breaks kept: a backslash before a line break is a hard
    break (CommonMark 6.7); lines after the first get ``indent`` (a quote's ``> ``)."""
    lines = [para(line) for line in value.splitlines() if line.strip()] or [""]
    return ("\\\n" + indent).join(lines)


def _cell(value: str) -> str:
    return text(value) or " "


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    out.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    out.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return out


def _poll(view: ResultsView, poll: PollView) -> list[str]:
    out = [f"### {text(poll.question)}", ""]
    meta = [poll.kind, poll.respondents] + ([poll.average] if poll.average else [])
    out += [para(" · ".join(meta)), ""]
    if poll.hidden:
        return [*out, f"*{text(poll.hidden)}*", ""]
    if not poll.options:
        return [*out, f"*{text(view.t('results.polls.no_words'))}*", ""] if poll.is_text else out
    first = view.t("results.polls.word" if poll.is_text else "results.polls.answer")
    counted = view.t("results.polls.mentions" if poll.is_text else "results.polls.count")
    rows = [[o.label, o.count, o.share] for o in poll.options]
    return [*out, *_table([first, counted, view.t("results.polls.share")], rows, {1, 2}), ""]


def render_markdown(view: ResultsView) -> str:
    """The whole report as one Markdown document."""
    t = view.t
    out = [f"# {text(t('results.title'))}: {text(view.title)}", ""]
    out += [f"**{text(t('results.when.label'))}:** {text(view.when)}  "]
    out += [f"**{text(t('results.rooms.label'))}:** {text(view.rooms)}", ""]
    if view.description:
        out += [block(view.description), ""]
    out += [f"*{text(view.published)}*", ""]
    out += [" · ".join(f"**{text(f.value)}** {text(f.label)}" for f in view.figures), ""]

    out += [f"## {text(t('results.nav.attendance'))}", "", para(t("results.attendance.intro")), ""]
    if view.measured:
        header = [
            t(f"results.attendance.{key}")
            for key in ("area", "peak", "peak_at", "unique", "web", "hubs", "dwell")
        ]
        rows = [[r.area, r.peak, r.peak_at, r.unique, r.web, r.hubs, r.dwell] for r in view.reach]
        out += [*_table(header, rows, {1, 2, 3, 4, 5, 6}), ""]
    else:
        out += [f"*{text(t('results.attendance.none'))}*", ""]

    out += [f"## {text(t('results.nav.questions'))}", "", para(t("results.questions.intro")), ""]
    for q in view.questions:
        out += [f"**{q.number}\\.** {block(q.text)}", ""]
        out += [para(f"{q.votes} · {q.status} · {q.where}"), ""]
        for label, said in (("answer", q.answer), ("reply", q.reply)):
            if said:
                out += [
                    f"> **{text(t(f'results.questions.{label}'))}:**\\",
                    "> " + block(said, "> "),
                    "",
                ]
    if not view.questions:
        out += [f"*{text(t('results.questions.none'))}*", ""]
    if view.not_approved:
        out += [para(view.not_approved), ""]

    out += [f"## {text(t('results.nav.polls'))}", ""]
    for poll in view.polls:
        out += _poll(view, poll)
    if not view.polls:
        out += [f"*{text(t('results.polls.none'))}*", ""]

    out += [f"## {text(t('results.nav.announcements'))}", ""]
    for a in view.announcements:
        out += [f"- **{text(a.when)}** ({text(a.where)}): {block(a.text, '  ')}"]
    out += [""] if view.announcements else [f"*{text(t('results.announcements.none'))}*", ""]
    out += ["---", "", f"*{text(t('results.footer'))}*", ""]
    return "\n".join(out)
