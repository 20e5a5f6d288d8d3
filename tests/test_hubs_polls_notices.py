"""Polls in the Hubs chat without a Hubs server: the posts, the results, which poll a line
answers, and the outbox that says them whole and confirms answers in bulk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubs_bridge.core import polls
from hubs_bridge.core.polls import Poll, Results
from hubs_bridge.core.stream import PollChanged, PollCounted, QuestionChanged
from hubs_bridge.hubs.chat_out import ChatOutbox, answers_text
from hubs_bridge.hubs.client_events import ChatReceived
from hubs_bridge.hubs.frames import CHAT_MAX_CHARS
from hubs_bridge.hubs.notices import Notice, StreamNotices
from hubs_bridge.hubs.poll_chat import ChatVote, PollChat
from hubs_bridge.hubs.poll_notices import PollNotices, opening_texts, result_texts
from tests.harness.waiting import eventually
from tests.test_hubs_notices import question

NOW = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


def draft(
    poll_id: str = "p1",
    *,
    kind: str = "single",
    question_text: str = "Welche Themen sind euch wichtig?",
    options: tuple[str, ...] = ("Radwege", "Spielplätze"),
    max_choices: int = 1,
    rooms: tuple[str, ...] | None = None,
) -> Poll:
    return polls.new_poll(
        poll_id=poll_id,
        event="kirmes",
        question=question_text,
        kind=kind,
        options=options,
        max_choices=max_choices,
        rooms=rooms,
        now=NOW,
    )


def opened(poll: Poll, minutes: int = 0) -> Poll:
    return polls.open_poll(poll, NOW + timedelta(minutes=minutes))


def closed(poll: Poll) -> Poll:
    return polls.close_poll(poll, NOW + timedelta(minutes=30))


def counted(poll: Poll, *answers: tuple[int, ...]) -> Results:
    return polls.tally(poll, [polls.Answer(choices=a) for a in answers])


# --- the texts ----------------------------------------------------------------------------


def test_an_opened_poll_is_posted_with_numbered_options_german_first() -> None:
    assert opening_texts(opened(draft())) == [
        "📊 Umfrage / Poll: Welche Themen sind euch wichtig?"
        " — 1) Radwege 2) Spielplätze"
        " — Antworten mit /1, /2 / Answer with /1, /2"
    ]
    many = draft(options=("A", "B", "C", "D"), kind="multiple", max_choices=2)
    assert opening_texts(many)[0].endswith(
        "1) A 2) B 3) C 4) D — Bis zu 2 Antworten, z. B. /1 3 / Up to 2 answers, e.g. /1 3"
    )
    four = draft(options=("A", "B", "C", "D"))
    assert opening_texts(four)[0].endswith("Antworten mit /1, /2 … /4 / Answer with /1, /2 … /4")


def test_a_rating_and_a_text_poll_say_how_they_are_answered() -> None:
    rating = opening_texts(draft(kind="rating", options=(), question_text="Wie war's?"))
    assert rating == [
        "📊 Umfrage / Poll: Wie war's?"
        " — Bewertung 1 (schlecht) bis 5 (sehr gut) / Rate 1 (poor) to 5 (very good)"
        " — Antworten mit /1, /2 … /5 / Answer with /1, /2 … /5"
    ]
    (text,) = opening_texts(draft(kind="text", options=(), question_text="Ein Wort\nzum Tag?"))
    assert text.startswith("📊 Umfrage / Poll: Ein Wort zum Tag? — ")
    assert "Veranstaltungsseite" in text and "event page" in text
    assert "/1" not in text  # no chat syntax: a text poll is not answered in the chat


def test_a_long_poll_is_split_at_options_within_the_chat_limit() -> None:
    options = tuple(f"{n}. " + "Möglichkeit " * 6 for n in range(1, 11))
    poll = draft(options=options, question_text="Frage " * 33)
    parts = opening_texts(poll)
    assert len(parts) == 2
    assert all(len(p) <= CHAT_MAX_CHARS for p in parts)
    assert parts[0].startswith("📊 Umfrage / Poll: Frage")
    assert parts[1].startswith("📊 … ")
    assert parts[1].endswith("Antworten mit /1, /2 … /10 / Answer with /1, /2 … /10")
    joined = " ".join(parts)
    # Every option once, whole, with its number, in order.
    positions = [joined.index(f"{n}) {n}. Möglichkeit") for n in range(1, 11)]
    assert positions == sorted(positions)


def test_results_name_the_leading_options_the_average_or_the_words() -> None:
    poll = closed(opened(draft(options=("Radwege", "Spielplätze", "Bänke", "Licht"))))
    results = counted(poll, (1,), (1,), (0,), (1,), (3,))
    assert result_texts(poll, results) == [
        "📊 Ergebnis / Result: Welche Themen sind euch wichtig?"
        " — 2) Spielplätze: 3 (60 %) 1) Radwege: 1 (20 %) 4) Licht: 1 (20 %)"
        " — 5 Antworten / 5 answers"
    ]
    rating = closed(opened(draft(kind="rating", options=(), question_text="Wie war's?")))
    # Choices are indexes: ratings 4, 4 and 5.
    assert result_texts(rating, counted(rating, (3,), (3,), (4,))) == [
        "📊 Ergebnis / Result: Wie war's? — Ø 4,3 von 5 / average 4.3 of 5"
        " — 3 Antworten / 3 answers"
    ]
    cloud = closed(opened(draft(kind="text", options=(), question_text="Ein Wort?")))
    words = polls.tally(
        cloud,
        [polls.Answer(text=t) for t in ("Radwege bitte", "mehr Radwege", "Licht")],
    )
    (said,) = result_texts(cloud, words)
    assert "Häufigste Wörter / Top words: radwege (2)" in said
    assert said.endswith("3 Antworten / 3 answers")
    assert result_texts(poll, counted(poll)) == [
        "📊 Ergebnis / Result: Welche Themen sind euch wichtig? — keine Antworten / no answers"
    ]


def test_an_answers_confirmation_counts_and_names_a_few() -> None:
    assert answers_text(1) == "✅ 1 Antwort gezählt / 1 answer counted"
    assert answers_text(12) == "✅ 12 Antworten gezählt / 12 answers counted"
    assert answers_text(2, ["Anna", "Bert"]) == (
        "✅ 2 Antworten gezählt / 2 answers counted (Anna, Bert)"
    )
    assert answers_text(9, ["Anna", "Bert", "Carl", "Dora"]).endswith("(Anna, Bert, Carl …)")
    assert answers_text(0) == ""


# --- the notices --------------------------------------------------------------------------


def test_a_poll_is_posted_when_it_opens_and_its_result_when_its_final_count_comes() -> None:
    notices = PollNotices()
    poll = draft(rooms=("daten",))
    assert notices.on_event(PollChanged(poll)) == []  # a draft is no one's business
    started = opened(poll)
    told = notices.on_event(PollChanged(started))
    assert told == [Notice(("daten",), opening_texts(started)[0], whole=True)]
    assert notices.on_event(PollChanged(started)) == []  # republished: nothing new
    assert notices.on_event(PollCounted(counted(started, (0,)))) == []  # a running count
    ended = closed(started)
    assert notices.on_event(PollChanged(ended)) == []  # the result waits for its count
    assert notices.result_due("p1")
    final = counted(ended, (0,), (1,), (1,))
    result = notices.on_event(PollCounted(final))
    assert result == [Notice(("daten",), result_texts(ended, final)[0], whole=True)]
    assert not notices.result_due("p1")
    # The service publishes the count again once it has settled: told once.
    assert notices.on_event(PollCounted(final)) == []
    assert notices.on_event(PollChanged(ended)) == []


def test_the_baseline_is_not_told_again() -> None:
    running, done = opened(draft("a")), closed(opened(draft("b")))
    notices = PollNotices()
    notices.baseline([running, done, draft("c")])
    assert notices.on_event(PollChanged(running)) == []
    assert notices.on_event(PollCounted(counted(done, (0,)))) == []
    # What happens after the baseline is told: the draft opening, the running one closing.
    assert len(notices.on_event(PollChanged(opened(draft("c"))))) == 1
    assert notices.on_event(PollChanged(closed(running))) == []
    assert len(notices.on_event(PollCounted(counted(running, (1,))))) == 1


def test_a_frame_told_while_the_state_loaded_is_not_undone_by_the_baseline() -> None:
    notices = PollNotices()
    ended = closed(opened(draft()))
    notices.on_event(PollChanged(ended))  # came while the bridge read the state
    notices.baseline([opened(draft())])  # older than what was heard
    assert notices.open_for("daten") is None
    assert len(notices.on_event(PollCounted(counted(ended, (0,))))) == 1


def test_a_deleted_poll_is_answered_no_more_and_told_nothing() -> None:
    notices = PollNotices()
    poll = opened(draft())
    notices.on_event(PollChanged(poll))
    assert notices.open_for("daten") == poll
    assert notices.on_event(PollChanged(poll, removed=True)) == []
    assert notices.open_for("daten") is None
    assert notices.on_event(PollCounted(counted(poll, (0,)))) == []


def test_a_line_answers_the_poll_opened_last_for_its_room() -> None:
    notices = PollNotices()
    everywhere = opened(draft("all"), minutes=1)
    info_only = opened(draft("info", rooms=("info",)), minutes=2)
    words = opened(draft("words", kind="text", options=()), minutes=3)
    for poll in (everywhere, info_only, words):
        notices.on_event(PollChanged(poll))
    assert notices.open_for("daten") == everywhere  # the text poll is not answered in chat
    assert notices.open_for("info") == info_only
    notices.on_event(PollChanged(closed(info_only)))
    assert notices.open_for("info") == everywhere


def test_stream_notices_hand_poll_frames_to_their_poll_notices() -> None:
    poll = opened(draft())
    assert StreamNotices().on_event(PollChanged(poll)) == []  # no poll notices: not told
    notices = StreamNotices(PollNotices())
    notices.baseline([question("q1")], [], [opened(draft("old"))])
    assert notices.on_event(QuestionChanged(question("q1"), 0)) == []
    assert [n.text for n in notices.on_event(PollChanged(poll))] == opening_texts(poll)
    assert notices.on_event(PollChanged(opened(draft("old")))) == []


def test_a_chat_line_is_a_vote_only_for_the_open_poll_of_its_room() -> None:
    notices = PollNotices()

    def line(body: str, room: str = "daten", session: str | None = "s1") -> ChatVote | None:
        chat = ChatReceived("hub1", session, "Anna", body, None)
        return PollChat.vote_in(room, notices, chat)

    assert line("/1") is None  # no poll open
    notices.on_event(PollChanged(opened(draft(rooms=("daten",)))))
    assert line("/2") == ChatVote("hub1", "s1", "Anna", "p1", (1,))
    assert line("/abstimmen 1") == ChatVote("hub1", "s1", "Anna", "p1", (0,))
    assert line("/vote 2") is not None
    for other in ("/3", "/1 2", "hallo", "/frage 1", "1"):
        assert line(other) is None, other  # no option, too many, or no vote at all
    assert line("/1", room="info") is None  # not a poll for that room
    assert line("/1", session=None) is None


# --- the outbox ---------------------------------------------------------------------------


async def test_a_whole_post_is_never_left_out_and_comes_in_order() -> None:
    sent: list[str] = []
    outbox = ChatOutbox(lambda hub, body: sent.append(body), interval_s=0.01)
    try:
        options = tuple(f"{n}. " + "Möglichkeit " * 6 for n in range(1, 11))
        parts = opening_texts(draft(options=options, question_text="Frage " * 33))
        outbox.post("hub1", "📣 davor")
        for part in parts:
            outbox.post("hub1", part, whole=True)
        outbox.post("hub1", "📣 danach " + "Wort " * 100)
        await eventually(lambda: "📣 danach" in "".join(sent), what="the notice after the post")
        assert all(len(body) <= CHAT_MAX_CHARS for body in sent)
        lines = [line for body in sent for line in body.split("\n")]
        assert [line for line in lines if line.startswith("📊")] == parts
        assert lines[-1].startswith("📣 danach")  # the notice after the post comes after it
    finally:
        await outbox.close()


async def test_answers_are_confirmed_in_bulk() -> None:
    sent: list[str] = []
    outbox = ChatOutbox(
        lambda hub, body: sent.append(body), interval_s=0.01, answers_interval_s=0.3
    )
    try:
        outbox.confirm_answer("hub1", "Anna")
        await eventually(lambda: sent, what="the first confirmation")
        assert sent == ["✅ 1 Antwort gezählt / 1 answer counted (Anna)"]
        for name in ("Bert", "Carl  Clown", "Bert", None, "Dora", "Emil"):
            outbox.confirm_answer("hub1", name)
        outbox.confirm_answer("hub2")
        await outbox.flush("hub1")
        await outbox.flush("hub2")
        assert sent[1:] == [
            "✅ 1 Antwort gezählt / 1 answer counted",  # another room: no need to wait
            "✅ 6 Antworten gezählt / 6 answers counted (Bert, Carl Clown, Dora …)",
        ]
    finally:
        await outbox.close()
