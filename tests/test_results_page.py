"""The results page of an event (issue 14): publication by staff, /r/{event} as HTML,
Markdown and PDF, aggregates only, people's text escaped, ETags; on both stores.

Records are written straight into the store (the event ended, so nobody could ask
or answer any more over the pages): questions in every state, votes, a closed poll
with ballots, an announcement, attendance marks and samples with recognisable
visitor ids that must appear nowhere.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hubs_bridge.core.attendance import EVENT_ROOM, AttendanceMark, AttendanceSample
from hubs_bridge.core.calendar import BERLIN, Event
from hubs_bridge.core.polls import Answer, Ballot, Poll, close_poll, open_poll
from hubs_bridge.core.qa import Author, ModerationEntry, Question
from hubs_bridge.web import results_markdown as md
from hubs_bridge.web.app import create_app
from hubs_bridge.web.keys import STORE
from hubs_bridge.web.results_publication import Publications
from tests.conftest import REDIS_URL, make_settings

STAFF = "staff-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {STAFF}"}
NOW = datetime.now(UTC).replace(microsecond=0)
STARTS = NOW - timedelta(hours=3)
ENDS = NOW - timedelta(hours=1)
EVENT = {
    "slug": "kirmes",
    "title": "Digitale Kirmes",
    "title_en": "Digital fair",
    "starts_at": STARTS.isoformat(),
    "ends_at": ENDS.isoformat(),
    "rooms": [
        {"slug": "info", "title": "Infostand", "title_en": "Info desk", "scene": "foyer"},
        {"slug": "daten", "title": "Offene Daten", "title_en": "Open data", "scene": "foyer"},
    ],
}
LATER = {
    **EVENT,
    "slug": "spaeter",
    "starts_at": "2090-06-01T18:00:00",
    "ends_at": "2090-06-01T20:00:00",
}
SCRIPT = "<script>alert(1)</script>"
UMLAUTS = "Grüße aus Soest – Straßenbäume"
# Ids and names of people: in the store, never in anything published.
SECRETS = ("VISITOR-SECRET", "AUTHOR-SECRET", "VOTER-SECRET", "Erika Geheimname")


@pytest.fixture(params=["sqlite", "redis"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    overrides: dict[str, object] = {"staff_token": STAFF}
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        overrides |= {"redis_url": REDIS_URL, "redis_prefix": prefix}
    app = await create_app(make_settings(tmp_path, **overrides))
    async with TestClient(TestServer(app)) as client:
        yield client


def _question(n: int, text: str, status: str = "approved", **more: Any) -> Question:
    at = STARTS + timedelta(minutes=n)
    return Question(
        id=f"q{n}",
        event="kirmes",
        room=more.pop("room", None),
        text=text,
        authors=(Author(f"AUTHOR-SECRET-{n}", "Erika Geheimname"),),
        source="web",
        status=status,  # type: ignore[arg-type]
        created_at=at,
        updated_at=at,
        **more,
    )


async def _seed(client: TestClient[Any, Any]) -> None:
    """An ended event with questions, votes, a poll, an announcement and attendance."""
    resp = await client.post("/api/events", json=EVENT, headers=AUTH)
    assert resp.status == 201, await resp.text()
    store = client.app[STORE]
    questions = [
        _question(1, "Wann kommt Glasfaser in die Altstadt?"),
        _question(2, SCRIPT, answered="written", answer=UMLAUTS, room="daten"),
        _question(3, "Wer pflegt die offenen Daten?", answered="live", reply="Das Rathaus."),
        _question(4, "PENDING-QUESTION", status="pending"),
        _question(5, "REJECTED-QUESTION", status="rejected", reject_reason="off_topic"),
    ]
    await store.qa_save("kirmes", questions, dict.fromkeys((q.id for q in questions), None))
    for question, voters in (("q2", 3), ("q3", 2)):
        for n in range(voters):
            assert await store.qa_vote("kirmes", question, f"VOTER-SECRET-{n}", True)

    poll = Poll(
        id="p1",
        event="kirmes",
        question="Welche Farbe für die Bänke?",
        kind="single",
        options=("Rot", "Grün", "Blau"),
        created_at=STARTS,
    )
    await store.poll_save(poll, None)
    opened = open_poll(poll, STARTS + timedelta(minutes=20))
    await store.poll_save(opened, poll.version)
    for n, choice in enumerate((0, 0, 0, 1)):
        answer = Answer(choices=(choice,))
        at = STARTS + timedelta(minutes=21)
        await store.poll_answer(Ballot("kirmes", "p1", f"VOTER-SECRET-{n}", answer, f"m{n}", at))
    await store.poll_save(close_poll(opened, STARTS + timedelta(minutes=30)), opened.version)
    draft = Poll(id="p2", event="kirmes", question="DRAFT-POLL", kind="rating", created_at=STARTS)
    await store.poll_save(draft, None)

    said = (("id", "a1"), ("text", "Kaffeepause im Foyer"), ("rooms", "info"))
    at = STARTS + timedelta(minutes=40)
    await store.qa_log(ModerationEntry("kirmes", at, "t1", "moderator", "announce", None, said))

    def mark(room: str, who: str, source: str, kind: str, at: datetime) -> AttendanceMark:
        return AttendanceMark("kirmes", room, who, source, kind, at)  # type: ignore[arg-type]

    marks = []
    for n in range(5):  # five web visitors, three of them also in the Hubs room "info"
        joined = STARTS + timedelta(minutes=n)
        marks.append(mark(EVENT_ROOM, f"VISITOR-SECRET-{n}", "web", "join", joined))
        if n < 3:
            marks.append(mark("info", f"VISITOR-SECRET-h{n}", "hubs", "join", joined))
            left = joined + timedelta(minutes=30)
            marks.append(mark("info", f"VISITOR-SECRET-h{n}", "hubs", "leave", left))
    samples = [
        AttendanceSample("kirmes", "info", STARTS + timedelta(minutes=m), web=m % 3, hubs=3)
        for m in range(0, 60, 5)
    ]
    await store.add_attendance(marks, samples)


async def _publish(client: TestClient[Any, Any], slug: str = "kirmes") -> dict[str, Any]:
    resp = await client.post(f"/api/events/{slug}/results", headers=AUTH)
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def _text(client: TestClient[Any, Any], path: str, **headers: str) -> str:
    resp = await client.get(path, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.text()


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    for hidden in ("PENDING-QUESTION", "REJECTED-QUESTION", "DRAFT-POLL"):
        assert hidden not in text


# --- publication ---------------------------------------------------------------------------


async def test_nothing_is_public_until_published(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    resp = await client.get("/r/kirmes")
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "Glasfaser" not in await resp.text()
    for suffix in (".md", ".pdf"):
        resp = await client.get(f"/r/kirmes{suffix}")
        assert resp.status == 404
        assert (await resp.json())["code"] == "results_not_published"
    state = await (await client.get("/api/events/kirmes/results", headers=AUTH)).json()
    assert state == {
        "event": "kirmes",
        "published": False,
        "published_at": None,
        "page": None,
        "downloads": [],
    }
    assert (await client.get("/r/nowhere")).status == 404


async def test_only_after_the_end_and_only_by_staff(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    assert (await client.post("/api/events", json=LATER, headers=AUTH)).status == 201
    resp = await client.post("/api/events/spaeter/results", headers=AUTH)
    assert resp.status == 409 and (await resp.json())["code"] == "event_not_ended"
    assert (await client.get("/r/spaeter")).status == 404

    resp = await client.post("/api/events/kirmes/results")
    assert resp.status == 401 and (await resp.json())["code"] == "token_required"
    created = await client.post(
        "/api/tokens", json={"role": "moderator", "events": ["kirmes"]}, headers=AUTH
    )
    moderator = {"Authorization": f"Bearer {(await created.json())['token']}"}
    for method in ("POST", "DELETE", "GET"):
        resp = await client.request(method, "/api/events/kirmes/results", headers=moderator)
        assert resp.status == 403 and (await resp.json())["code"] == "staff_only"
    assert (await client.get("/r/kirmes")).status == 404
    resp = await client.post("/api/events/nowhere/results", headers=AUTH)
    assert resp.status == 404 and (await resp.json())["code"] == "event_not_found"


async def test_publish_withdraw_and_publish_again(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    published = await _publish(client)
    assert published["published"] is True and published["page"] == "/r/kirmes"
    assert published["downloads"] == ["/r/kirmes.md", "/r/kirmes.pdf"]
    assert (await _publish(client))["published_at"] == published["published_at"]  # idempotent
    assert (await client.get("/r/kirmes")).status == 200

    resp = await client.delete("/api/events/kirmes/results", headers=AUTH)
    assert resp.status == 200 and (await resp.json())["published"] is False
    for path in ("/r/kirmes", "/r/kirmes.md", "/r/kirmes.pdf"):
        assert (await client.get(path)).status == 404
    assert (await _publish(client))["published"] is True
    assert (await client.get("/r/kirmes.md")).status == 200


async def test_a_new_event_under_the_same_slug_is_not_published(
    client: TestClient[Any, Any],
) -> None:
    await _seed(client)
    await _publish(client)
    assert (await client.delete("/api/events/kirmes", headers=AUTH)).status == 204
    assert (await client.post("/api/events", json=EVENT, headers=AUTH)).status == 201
    assert (await client.get("/r/kirmes")).status == 404


async def test_the_routes_are_in_the_openapi_document(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    ops = doc["paths"]["/api/events/{event}/results"]
    assert set(ops) == {"get", "post", "delete"}
    assert {"401", "403", "404", "409"} <= set(ops["post"]["responses"])


# --- what the page reports -----------------------------------------------------------------


async def test_the_page_reports_the_event_in_aggregate(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    await _publish(client)
    resp = await client.get("/r/kirmes")
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    html = await resp.text()
    _no_secrets(html)
    assert '<html lang="de">' in html and "Ergebnisprotokoll: Digitale Kirmes</title>" in html
    # Approved questions only, most votes first, with their answers.
    order = [html.index(t) for t in ("alert(1)", "Wer pflegt", "Wann kommt Glasfaser")]
    assert order == sorted(order)
    assert UMLAUTS in html and "Das Rathaus." in html and "Schriftlich beantwortet" in html
    assert "3 Stimmen" in html and "Nicht zugelassene Fragen: 2" in html
    # The poll with its counts and shares; the announcement; the rooms.
    assert "Welche Farbe für die Bänke?" in html and "Teilnehmende: 4" in html
    assert "75 %" in html and "(3)" in html and "25 %" in html
    assert "Kaffeepause im Foyer" in html and "Infostand" in html
    # Attendance: 5 web visitors on the page, 3 in Hubs, 8 in all; a chart over time.
    table = html[html.index('id="attendance-table"') : html.index("</table>")]
    rows = re.findall(r'<th scope="row">([^<]*)</th>(.*?)</tr>', table, re.S)
    cells = {name: re.findall(r'<td class="num">([^<]*)</td>', rest)[:5] for name, rest in rows}
    at = [(STARTS + timedelta(minutes=m)).astimezone(BERLIN).strftime("%H:%M") for m in (4, 2)]
    assert cells == {
        "Ganze Veranstaltung": ["8", at[0], "8", "5", "3"],
        "Veranstaltungsseite": ["5", at[0], "5", "5", "0"],
        "Infostand": ["3", at[1], "3", "0", "3"],
        "Offene Daten": ["0", "–", "0", "0", "0"],
    }
    assert "30 min" in table
    assert "<svg" in html and 'data-room="info"' in html


async def test_visitor_text_is_escaped_everywhere(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    await _publish(client)
    html = await _text(client, "/r/kirmes")
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = await _text(client, "/r/kirmes.md")
    assert SCRIPT not in markdown
    assert r"\<script\>alert(1)\</script\>" in markdown


async def test_markdown_reports_the_same(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    await _publish(client)
    resp = await client.get("/r/kirmes.md")
    assert resp.content_type == "text/markdown" and resp.charset == "utf-8"
    assert 'filename="kirmes-ergebnisse.md"' in resp.headers["Content-Disposition"]
    markdown = await resp.text()
    _no_secrets(markdown)
    assert markdown.startswith("# Ergebnisprotokoll: Digitale Kirmes")
    order = [markdown.index(t) for t in ("alert(1)", "Wer pflegt", "Wann kommt Glasfaser")]
    assert order == sorted(order)
    assert UMLAUTS in markdown and "| Rot | 3 | 75 % |" in markdown
    assert "Kaffeepause im Foyer" in markdown
    assert "| Veranstaltungsseite | 5 |" in markdown
    english = await _text(client, "/r/kirmes.md?lang=en")
    assert english.startswith("# Results: Digital fair") and "| Rot | 3 | 75% |" in english


async def test_pdf_has_the_text_with_umlauts(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    await _publish(client)
    resp = await client.get("/r/kirmes.pdf")
    assert resp.status == 200 and resp.content_type == "application/pdf"
    assert 'filename="kirmes-ergebnisse.pdf"' in resp.headers["Content-Disposition"]
    data = await resp.read()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    assert UMLAUTS in text
    assert "Welche Farbe für die Bänke?" in text and SCRIPT in text  # plain text in a PDF
    _no_secrets(text)


async def test_etag_and_not_modified(client: TestClient[Any, Any]) -> None:
    await _seed(client)
    await _publish(client)
    for path in ("/r/kirmes", "/r/kirmes.md", "/r/kirmes.pdf"):
        first = await client.get(path)
        etag = first.headers["ETag"]
        assert etag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and again.headers["ETag"] == etag
        assert await again.read() == b""
    page_etag = (await client.get("/r/kirmes")).headers["ETag"]
    english = await client.get("/r/kirmes", cookies={"hb_lang": "en"})
    assert english.headers["ETag"] != page_etag
    assert "Results" in await english.text() and "Answered in writing" in await english.text()
    # A new publication is new data: the old ETag no longer matches.
    await client.delete("/api/events/kirmes/results", headers=AUTH)
    await _publish(client)
    resp = await client.get("/r/kirmes", headers={"If-None-Match": page_etag})
    assert resp.status == 200 and resp.headers["ETag"] != page_etag


# --- reading a PDF's text: fpdf2 writes glyph ids, ToUnicode maps say which characters -----


def pdf_text(data: bytes) -> str:
    """The text of every page, decoded through each font's ToUnicode map (no PDF library here).

    Enough for fpdf2's output: literal strings of 2-byte glyph ids shown with ``Tj``,
    one ``/ToUnicode`` CMap per font, fonts chosen with ``Tf``.
    """
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def stream(number: int) -> bytes:
        body = objects[number]
        raw = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
        assert raw is not None
        return zlib.decompress(raw.group(1)) if b"/FlateDecode" in body else raw.group(1)

    maps: dict[bytes, dict[int, str]] = {}
    for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", data):
        unicode_ref = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(ref)])
        assert unicode_ref is not None
        maps[name] = _cmap(stream(int(unicode_ref.group(1))).decode("latin-1"))
    shown = []
    for number, body in objects.items():
        if b"stream" not in body or b"/FlateDecode" not in body or b"/Length1" in body:
            continue
        content = stream(number)
        font: dict[int, str] = {}
        tokens = re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", content, re.S)
        for token in tokens:
            if token.group(1):
                font = maps[token.group(1)]
                continue
            glyphs = _unescape(token.group(2))
            ids = [int.from_bytes(glyphs[i : i + 2], "big") for i in range(0, len(glyphs), 2)]
            shown.append("".join(font.get(i, "?") for i in ids))
    return "\n".join(shown)


def _cmap(text: str) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for glyph, code in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(glyph, 16)] = bytes.fromhex(code).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for low, high, code in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(code, 16)
            for offset, glyph in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[glyph] = chr(first + offset)
    return mapping


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    """A PDF literal string's bytes (section 7.3.4.2: backslash escapes, octal codes)."""

    def one(match: re.Match[bytes]) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return _ESCAPES.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


# --- the parts without a server ------------------------------------------------------------


def test_markdown_escapes_every_syntax_in_people_s_text() -> None:
    assert md.text("<b>x</b> & [a](b) *c* `d` |") == r"\<b\>x\</b\> \& \[a\](b) \*c\* \`d\` \|"
    assert md.para("# Titel") == r"\# Titel" and md.para("- Punkt") == r"\- Punkt"
    assert md.para("1. eins") == r"1\. eins" and md.para("> Zitat") == r"\> Zitat"
    assert md.text("Zeile\nund  mehr") == "Zeile und mehr"
    assert md.block("eins\n\n- zwei", "> ") == "eins\\\n> \\- zwei"


async def test_publication_entries_are_appended_once_under_a_race(store: Any) -> None:
    event = Event.model_validate({**EVENT, "rooms": [], "created_at": STARTS, "updated_at": STARTS})
    one, two = Publications(store), Publications(store)  # as two server processes
    assert await one.current("kirmes") is None
    first = await one.change(event, published=True, by="a", now=NOW)
    assert first is not None and first.number == 1 and first.shows(event)
    withdrawn = await two.change(event, published=False, by="b", now=NOW)
    assert withdrawn is not None and withdrawn.number == 2 and not withdrawn.shows(event)
    current = await one.current("kirmes")
    assert current is not None and current.number == 2  # one sees two's entry
    # Both publish at once: one entry is written, both are told about the same one.
    a, b = await asyncio.gather(
        one.change(event, published=True, by="a", now=NOW),
        two.change(event, published=True, by="b", now=NOW),
    )
    assert a == b and a is not None and a.number == 3 and a.shows(event)
    assert await store.get_meta("results:kirmes:4") is None
    # A new event under the same slug is not published by the old one's entry.
    again = event.model_copy(update={"created_at": NOW})
    assert not a.shows(again)
