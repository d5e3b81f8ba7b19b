"""Poll rules: preparing and running polls, one vote per voter, tallies."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from eventhub import audit
from eventhub.db import utcnow
from eventhub.errors import Conflict, DomainError, NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.polls import ballots, quiz
from eventhub.polls.ballots import MAX_TEXT
from eventhub.polls.models import (
    AFTER_VOTE,
    APPROVED,
    CLOSED,
    DRAFT,
    MULTIPLE,
    OPEN,
    OPEN_TEXT,
    OPTION_KINDS,
    PENDING,
    POLL_KINDS,
    QA,
    QUIZ,
    RESULTS_MODES,
    SCALE,
    WORDCLOUD,
    Poll,
    PollOption,
    QAQuestion,
    QAUpvote,
    Vote,
)
from eventhub.signals import emit

MAX_QUESTION = 300


class PollClosed(DomainError):
    status_code = 409


class AlreadyVoted(DomainError):
    status_code = 409


@dataclass
class PollData:
    question: str
    kind: str
    options: list[str] = field(default_factory=list)
    max_choices: int | None = None
    scale_min: int = 1
    scale_max: int = 5
    audience: str = "anyone"
    allow_change: bool = False
    results_visible: bool = False
    banned_words: list[str] = field(default_factory=list)
    session_id: int | None = None
    results_mode: str = AFTER_VOTE
    max_entries: int = 1
    qa_names: bool = False
    time_limit: int | None = None


# Reading ------------------------------------------------------------------------------


def event_by_join_code(code: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.join_code == (code or "").upper()))
    if event is None or not event.is_public:
        raise NotFound(_("Koden findes ikke. Tjek koden på skærmen og prøv igen."))
    return event


def polls_of(event: Event, *, only_open: bool = False) -> list[Poll]:
    stmt = select(Poll).where(Poll.event_id == event.id).order_by(Poll.position, Poll.id)
    if only_open:
        stmt = stmt.where(Poll.status == OPEN)
    return list(db.session.scalars(stmt))


def poll_by_code(code: str, poll_id: int) -> Poll:
    """A poll of the event with this join code, its event and options loaded at once
    (the vote path: one round trip for the poll and event, one for the options)."""
    poll = db.session.scalar(
        select(Poll).join(Event, Poll.event_id == Event.id)
        .where(Event.join_code == (code or "").upper(), Poll.id == poll_id)
        .options(contains_eager(Poll.event), selectinload(Poll.options)))
    if poll is None or not poll.event.is_public:
        raise NotFound(_("Afstemningen findes ikke."))
    return poll


def get_poll(event: Event, poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.event_id != event.id:
        raise NotFound(_("Afstemningen findes ikke."))
    return poll


# Preparing ------------------------------------------------------------------------------


def save_poll(actor, event: Event, data: PollData, poll: Poll | None = None) -> Poll:
    """Create or edit a poll (options can change only while nobody has voted)."""
    require_role(actor, event, ORGANIZER)
    question = _clean_question(data.question)
    options = _clean_options(data)
    if poll is None:
        poll = _new_poll(event)
    elif poll.event_id != event.id:
        raise NotFound(_("Afstemningen findes ikke."))
    voted = poll.id is not None and vote_count(poll) > 0
    labels, correct = _quiz_marks(data.kind, options)
    if voted and (data.kind != poll.kind or labels != [o.label for o in poll.options]):
        raise ValidationError(_("Der er allerede stemt. Nulstil afstemningen for at ændre "
                                "type eller svarmuligheder."), "options")
    poll.question, poll.kind, poll.session_id = question, data.kind, data.session_id
    poll.max_choices = data.max_choices if data.kind == MULTIPLE else None
    poll.scale_min, poll.scale_max = data.scale_min, data.scale_max
    poll.audience = data.audience if data.audience in ("anyone", "registered") else "anyone"
    poll.allow_change, poll.results_visible = data.allow_change, data.results_visible
    poll.banned_words = sorted({w.strip().casefold() for w in data.banned_words if w.strip()})
    _apply_settings(poll, data)
    if not voted:
        poll.options = [PollOption(label=label, position=i, correct=i - 1 in correct)
                        for i, label in enumerate(labels, start=1)]
    db.session.flush()
    return poll


def _clean_question(text: str | None) -> str:
    """The question on one line: not empty, at most ``MAX_QUESTION`` characters."""
    question = " ".join((text or "").split())
    if not question:
        raise ValidationError(_("Skriv spørgsmålet."), "question")
    if len(question) > MAX_QUESTION:
        raise ValidationError(_("Spørgsmålet er for langt (højst 300 tegn)."), "question")
    return question


def _clean_options(data: PollData) -> list[str]:
    """The kind, and the distinct option labels with what the kind needs of them."""
    if data.kind not in POLL_KINDS:
        raise ValidationError(_("Vælg en gyldig type."), "kind")
    options: list[str] = []
    for label in data.options:
        label = " ".join(str(label).split())[:200]
        if label and label not in options:
            options.append(label)
    if data.kind in OPTION_KINDS and len(options) < 2:
        raise ValidationError(_("Skriv mindst to svarmuligheder, én pr. linje."), "options")
    if data.kind == MULTIPLE and data.max_choices is not None and not (
            1 <= data.max_choices <= len(options)):
        raise ValidationError(_("Højst antal valg skal være mellem 1 og antallet af "
                                "svarmuligheder."), "max_choices")
    if data.kind == SCALE and not (0 <= data.scale_min < data.scale_max <= 10):
        raise ValidationError(_("Skalaen skal gå fra 0 eller 1 op til højst 10."), "scale_max")
    return options


def _quiz_marks(kind: str, options: list[str]) -> tuple[list[str], set[int]]:
    """Quiz options are written with a * before the right answer: (labels, right ones)."""
    if kind != QUIZ:
        return options, set()
    labels = [o.lstrip("*").strip() for o in options]
    correct = {i for i, o in enumerate(options) if o.startswith("*")}
    if len(correct) != 1:
        raise ValidationError(_("Markér præcis ét rigtigt svar med * foran."), "options")
    return labels, correct


def _apply_settings(poll: Poll, data: PollData) -> None:
    """Results visibility and the settings of word clouds, Q&A and quizzes."""
    if data.results_mode not in RESULTS_MODES:
        raise ValidationError(_("Vælg, hvornår telefonerne ser resultatet."), "results_mode")
    if data.kind == WORDCLOUD and not 1 <= (data.max_entries or 0) <= 5:
        raise ValidationError(_("Hver deltager kan give 1 til 5 svar."), "max_entries")
    if data.kind == QUIZ and data.time_limit is not None and not 5 <= data.time_limit <= 600:
        raise ValidationError(_("Tidsgrænsen skal være mellem 5 og 600 sekunder."),
                              "time_limit")
    poll.results_mode = data.results_mode
    poll.max_entries = data.max_entries if data.kind == WORDCLOUD else 1
    poll.qa_names = data.qa_names if data.kind == QA else False
    poll.time_limit = data.time_limit if data.kind == QUIZ else None
    if data.kind == QUIZ:
        poll.allow_change = False  # the points depend on the first answer's moment


def _new_poll(event: Event) -> Poll:
    """A new poll placed after the event's others."""
    last = db.session.scalar(select(func.max(Poll.position)).where(Poll.event_id == event.id))
    poll = Poll(event_id=event.id, position=(last or 0) + 1)
    db.session.add(poll)
    return poll


def set_status(actor, event: Event, poll: Poll, status: str) -> None:
    """Open or close a poll."""
    require_role(actor, event, ORGANIZER)
    if status == OPEN:
        poll.status, poll.opened_at, poll.closed_at = OPEN, poll.opened_at or utcnow(), None
    elif status == CLOSED:
        if poll.status != CLOSED:
            emit("poll.closed", event_id=event.id, poll_id=poll.id)
        poll.status, poll.closed_at = CLOSED, utcnow()
    db.session.flush()


def set_results_visible(actor, event: Event, poll: Poll, visible: bool) -> None:
    require_role(actor, event, ORGANIZER)
    poll.results_visible = visible
    db.session.flush()


def reset(actor, event: Event, poll: Poll) -> None:
    """Delete every vote and question; the poll goes back to draft."""
    require_role(actor, event, ORGANIZER)
    db.session.execute(delete(Vote).where(Vote.poll_id == poll.id))
    db.session.execute(delete(QAQuestion).where(QAQuestion.poll_id == poll.id))
    poll.status, poll.opened_at, poll.closed_at = DRAFT, None, None
    db.session.flush()


class HasVotes(Conflict):
    """Deleting a poll people answered needs a confirmation."""

    def __init__(self, votes: int) -> None:
        super().__init__(ngettext(
            "Afstemningen har %(num)d svar. Sletter du den, forsvinder svarene også.",
            "Afstemningen har %(num)d svar. Sletter du den, forsvinder svarene også.", votes))
        self.votes = votes


def answers_count(poll: Poll) -> int:
    """Votes and audience questions given to the poll."""
    questions = db.session.scalar(select(func.count()).select_from(QAQuestion).where(
        QAQuestion.poll_id == poll.id))
    return vote_count(poll) + (questions or 0)


def delete_poll(actor, event: Event, poll: Poll, *, confirmed: bool = False) -> int:
    """Delete a poll with its options; one with answers only when confirmed (logged with
    how many answers went with it). Returns that number."""
    require_role(actor, event, ORGANIZER)
    answers = answers_count(poll)
    if answers and not confirmed:
        raise HasVotes(answers)
    audit.record(actor, event, "polls.delete", f"#{poll.id}: {answers}")
    db.session.delete(poll)
    db.session.flush()
    return answers


def duplicate(actor, event: Event, poll: Poll) -> Poll:
    """A draft copy with the same question and options, no votes."""
    data = PollData(
        question=_("%(q)s (kopi)", q=poll.question)[:MAX_QUESTION], kind=poll.kind,
        options=[o.label for o in poll.options], max_choices=poll.max_choices,
        scale_min=poll.scale_min, scale_max=poll.scale_max, audience=poll.audience,
        allow_change=poll.allow_change, results_visible=poll.results_visible,
        banned_words=list(poll.banned_words or []), session_id=poll.session_id,
        results_mode=poll.results_mode, max_entries=poll.max_entries, qa_names=poll.qa_names,
        time_limit=poll.time_limit)
    if poll.kind == QUIZ:
        data.options = [("*" if o.correct else "") + o.label for o in poll.options]
    return save_poll(actor, event, data)


# Voting --------------------------------------------------------------------------------


def vote(poll: Poll, voter_key: str, raw: list[str], registration_id: int | None = None,
         nickname: str = "") -> int | None:
    """Cast (or, where allowed, change) a vote; the new row's id, None when changed.

    One INSERT … ON CONFLICT DO NOTHING: the unique (poll, voter) index decides, so two
    taps at once from the same phone can never both count.
    """
    if poll.status != OPEN:
        raise PollClosed(_("Afstemningen er lukket.") if poll.status == CLOSED
                         else _("Afstemningen er ikke åbnet endnu."))
    if poll.kind == QA:
        raise ValidationError(_("Stil dit spørgsmål i feltet til spørgsmål."))
    value = ballots.clean(poll, raw)
    if poll.kind == QUIZ:
        value = quiz.score(poll, value, nickname)
    status = PENDING if poll.kind == OPEN_TEXT else APPROVED
    insert = sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else pg_insert
    inserted = db.session.execute(
        insert(Vote).values(poll_id=poll.id, voter_key=voter_key, value=value, status=status,
                            registration_id=registration_id, created_at=utcnow(),
                            updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["poll_id", "voter_key"])
        .returning(Vote.id)
    ).scalar_one_or_none()
    if inserted is None:  # the database already holds this voter's vote
        if not poll.allow_change:
            raise AlreadyVoted(_("Du har allerede stemt i denne afstemning."))
        db.session.execute(
            update(Vote).where(Vote.poll_id == poll.id, Vote.voter_key == voter_key)
            .values(value=value, status=status, updated_at=utcnow()))
    return inserted


def my_vote(poll: Poll, voter_key: str | None) -> Vote | None:
    if not voter_key:
        return None
    return db.session.scalar(select(Vote).where(Vote.poll_id == poll.id,
                                                Vote.voter_key == voter_key))


def vote_count(poll: Poll) -> int:
    return db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.poll_id == poll.id))


def pending(poll: Poll) -> list[Vote] | list[QAQuestion]:
    """What waits for the moderator: open-text answers or Q&A questions, oldest first."""
    if poll.kind == OPEN_TEXT:
        return list(db.session.scalars(select(Vote).where(
            Vote.poll_id == poll.id, Vote.status == PENDING).order_by(Vote.id)))
    if poll.kind == QA:
        return list(db.session.scalars(select(QAQuestion).where(
            QAQuestion.poll_id == poll.id, QAQuestion.status == PENDING)
            .order_by(QAQuestion.id)))
    return []


def moderate_text(actor, event: Event, poll: Poll, vote_id: int, approve: bool) -> None:
    """Show (or hide) an open-text answer."""
    require_role(actor, event, ORGANIZER)
    ballot = db.session.get(Vote, vote_id)
    if ballot is None or ballot.poll_id != poll.id:
        raise NotFound(_("Svaret findes ikke."))
    ballot.status = APPROVED if approve else "rejected"
    db.session.flush()


# Q&A ---------------------------------------------------------------------------------------


def ask(poll: Poll, voter_key: str, text: str, author: str = "") -> QAQuestion:
    """A question from the audience, waiting for a moderator; with the asker's name
    only when they gave it and the poll allows names."""
    if poll.kind != QA:
        raise ValidationError(_("Her kan man ikke stille spørgsmål."))
    if poll.status != OPEN:
        raise PollClosed(_("Der er lukket for spørgsmål."))
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError(_("Skriv dit spørgsmål."))
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Spørgsmålet er for langt (højst %(n)d tegn).", n=MAX_TEXT))
    name = " ".join((author or "").split())[:80] if poll.qa_names else ""
    question = QAQuestion(poll_id=poll.id, voter_key=voter_key, text=text, author=name or None)
    db.session.add(question)
    db.session.flush()
    return question


def upvote(poll: Poll, question_id: int, voter_key: str) -> bool:
    """One upvote per voter per question; returns False when already given."""
    if poll.status != OPEN:
        raise PollClosed(_("Der er lukket for spørgsmål."))
    question = db.session.get(QAQuestion, question_id)
    if question is None or question.poll_id != poll.id or question.status != APPROVED:
        raise NotFound(_("Spørgsmålet findes ikke."))
    try:
        with db.session.begin_nested():
            db.session.add(QAUpvote(question_id=question.id, voter_key=voter_key))
            db.session.flush()
    except IntegrityError:
        return False
    db.session.execute(update(QAQuestion).where(QAQuestion.id == question.id)
                       .values(upvotes=QAQuestion.upvotes + 1))
    return True


def moderate_question(actor, event: Event, poll: Poll, question_id: int, action: str) -> None:
    """approve / reject / pin / unpin / answered."""
    require_role(actor, event, ORGANIZER)
    question = db.session.get(QAQuestion, question_id)
    if question is None or question.poll_id != poll.id:
        raise NotFound(_("Spørgsmålet findes ikke."))
    if action == "approve":
        question.status = APPROVED
    elif action == "reject":
        question.status = "rejected"
    elif action in ("pin", "unpin"):
        question.pinned = action == "pin"
    elif action == "answered":
        question.answered = True
    db.session.flush()
