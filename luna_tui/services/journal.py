"""The journal: entries with mood, sleep, emotions and tags; pages, filters and search.

Lists are keyset pages over (entry_date, entry_time, entry_no), newest first, so page
1,000 costs what page 1 does and nothing ever loads every entry. Search is FTS5 with
bm25 ranking (title weighs most, then tags, then the text) and a highlighted snippet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from peewee import SQL, fn

from luna_tui.errors import FutureEntry, NotFound, ValidationError
from luna_tui.services.base import (
    DomainService,
    audit_diff,
    id_from_prefix,
    new_id,
    on_db_thread,
)
from luna_tui.services.date_phrases import is_future, parse_moment
from luna_tui.services.text_search import MARK_END, MARK_START, fts_query, snippet_parts
from luna_tui.services.validation import (
    choice,
    clean_tags,
    clean_words,
    optional_text,
    parse_date,
    parse_optional_number,
    parse_scale,
    parse_time,
    refuse_controls,
)
from luna_tui.store.journal_bulk import (
    index_new_entries,
    index_triggers_suspended,
    insert_entries,
)
from luna_tui.store.models.journal import JournalEntry, JournalEntryTag, JournalFts
from luna_tui.store.models.patients import Patient
from luna_tui.store.weeks import monday_of

JOURNAL_TYPES = ("free", "prompted", "mood_check")
PRIVACY_LEVELS = ("private", "shared")
MAX_CONTENT = 200_000
FREE_TEXT = frozenset({"title", "content", "prompt", "tags", "emotions"})
EDITABLE = ("title", "content", "entry_date", "entry_time", "mood", "mood_scale",
            "sleep_hours", "emotions", "tags", "journal_type", "prompt", "privacy_level",
            "favorite", "session_id")

BM25_WEIGHTS = (5.0, 1.0, 3.0)  # title, content, tags
RANK_WINDOW = 2000  # a search ranks at most this many of the newest matches

PROMPTS = (
    "What went well today, however small?",
    "What is weighing on you right now?",
    "How did your body feel today?",
    "What helped you cope this week?",
    "What would you like to tell your doctor or therapist?",
    "What are you grateful for today?",
    "What drained your energy, and what restored it?",
)


@dataclass(frozen=True)
class Entry:
    id: str
    patient_id: str
    entry_no: int
    entry_date: str
    entry_time: str
    title: str | None
    content: str
    mood: str | None
    mood_scale: int | None
    sleep_hours: float | None
    emotions: tuple[str, ...]
    tags: tuple[str, ...]
    journal_type: str
    prompt: str | None
    privacy_level: str
    favorite: bool
    session_id: str | None
    created_at: str
    updated_at: str

    @property
    def display_title(self) -> str:
        """The title, else the first line of the text."""
        if self.title:
            return self.title
        for line in self.content.splitlines():
            line = line.strip().lstrip("#").strip()
            if line:
                return line
        return "(empty)"


def _view(row: JournalEntry) -> Entry:
    return Entry(
        id=row.id, patient_id=row.patient_id, entry_no=row.entry_no,
        entry_date=row.entry_date, entry_time=row.entry_time, title=row.title,
        content=row.content, mood=row.mood, mood_scale=row.mood_scale,
        sleep_hours=row.sleep_hours, emotions=tuple(row.emotions), tags=tuple(row.tags),
        journal_type=row.journal_type, prompt=row.prompt, privacy_level=row.privacy_level,
        favorite=bool(row.favorite), session_id=row.session_id, created_at=row.created_at,
        updated_at=row.updated_at,
    )


entry_view = _view  # for read models that select entries of their own (on this day)


@dataclass(frozen=True)
class JournalCursor:
    """Where the next page starts: just after this entry in newest-first order."""

    entry_date: str
    entry_time: str
    entry_no: int


@dataclass(frozen=True)
class JournalPage:
    entries: list[Entry]
    next_cursor: JournalCursor | None  # None on the last page


@dataclass(frozen=True)
class JournalFilter:
    mood: str | None = None
    tag: str | None = None
    favorites_only: bool = False
    journal_type: str | None = None
    privacy_level: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    also_tags: tuple[str, ...] = ()  # more tags every entry shown must have as well
    mood_scale_from: int | None = None  # the mood scale (1-10) within these bounds
    mood_scale_to: int | None = None


@dataclass(frozen=True)
class SearchHit:
    entry: Entry
    snippet: str  # with MARK_START / MARK_END around each match
    score: float  # bm25: lower is better

    def snippet_parts(self) -> list[tuple[str, bool]]:
        return snippet_parts(self.snippet)


@dataclass
class EntryDraft:
    """What a person fills in; everything is checked by the service."""

    content: str = ""
    title: str | None = None
    entry_date: object = None
    entry_time: object = None
    mood: str | None = None
    mood_scale: object = None
    sleep_hours: object = None
    emotions: object = None
    tags: object = None
    journal_type: str = "free"
    prompt: str | None = None
    privacy_level: str | None = None
    favorite: bool = False
    session_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Journal(DomainService):
    # -- writing --------------------------------------------------------------------

    @on_db_thread
    def create(self, patient_id: str, draft: EntryDraft, *, future_ok: bool = True) -> Entry:
        """`future_ok=False`: an entry dated after now is refused with FutureEntry (the
        app then asks, the shell wants --future)."""
        values = self._draft_values(draft)
        refuse_controls(values)
        values = self._validated(values, patient_id=patient_id)
        if not future_ok:
            self._refuse_future(values)
        stamp = self.stamp()
        with self.session.writing("save an entry") as tx:
            row = JournalEntry.create(id=new_id(), patient=patient_id, created_at=stamp,
                                      updated_at=stamp, **values)
            tx.record("journal.create", row.id, audit_diff(None, values, FREE_TEXT))
        return self._get(row.id)

    @on_db_thread
    def update(self, entry_id: str, *, future_ok: bool = True, **changes: object) -> Entry:
        """`future_ok=False`: moving the entry to after now is refused with FutureEntry
        (an entry already there may keep its date while its text changes)."""
        row = self._row(entry_id)
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValidationError(f"Entries have no field {', '.join(sorted(unknown))}.")
        before = {name: _stored(getattr(row, name)) for name in EDITABLE}
        refuse_controls(changes, stored=before)
        values = self._validated({**before, **changes}, patient_id=row.patient_id)
        moved = (values["entry_date"], values["entry_time"]) != (before["entry_date"],
                                                                before["entry_time"])
        if not future_ok and moved:
            self._refuse_future(values)
        changed = {k: v for k, v in values.items() if _stored(v) != before.get(k)}
        if not changed:
            return _view(row)
        with self.session.writing("change an entry") as tx:
            JournalEntry.update(updated_at=self.stamp(), **changed).where(
                JournalEntry.id == entry_id).execute()
            tx.record("journal.update", entry_id, audit_diff(before, values, FREE_TEXT))
        return self._get(entry_id)

    @on_db_thread
    def toggle_favorite(self, entry_id: str) -> Entry:
        row = self._row(entry_id)
        return self.update(entry_id, favorite=not row.favorite)

    @on_db_thread
    def delete(self, entry_id: str) -> None:
        row = self._row(entry_id)
        before = {name: _stored(getattr(row, name)) for name in EDITABLE}
        with self.session.writing("delete an entry") as tx:
            JournalEntry.delete().where(JournalEntry.id == entry_id).execute()
            tx.record("journal.delete", entry_id, audit_diff(before, None, FREE_TEXT))

    @on_db_thread
    def import_entries(self, patient_id: str, drafts: Iterable[EntryDraft], *, source: str,
                       ids: Iterable[str] | None = None,
                       progress: Callable[[int], None] | None = None,
                       batch_size: int = 1000) -> int:
        """Add many entries in one transaction (all or nothing), with one audit row;
        returns how many were added.

        `ids`, one per draft, are the entries' ids (stable ones make a second import of
        the same file add nothing: an entry whose id is already here is left alone);
        else each gets a new id. The per-row triggers that keep the full-text index and
        the tag rows in step are set aside for the import and the new rows indexed in
        two set-based statements, which halves the cost at 100,000 entries.
        """
        self._require_patient(patient_id)
        id_source = iter(ids) if ids is not None else None
        count = 0
        stamp = self.stamp()
        now = self.local_now()
        default_privacy = None
        with self.session.writing("import entries") as tx, index_triggers_suspended() as first:
            batch: list[dict[str, object]] = []
            for draft in drafts:
                values = self._draft_values(draft, default_privacy)
                refuse_controls(values)
                default_privacy = values["privacy_level"] if draft.privacy_level is None else (
                    default_privacy)
                values = self._validated(values, patient_id=patient_id, check_patient=False,
                                         now=now)
                entry_id = next(id_source) if id_source is not None else new_id()
                batch.append({"id": entry_id, "patient": patient_id, "created_at": stamp,
                              "updated_at": stamp, **values})
                if len(batch) >= batch_size:
                    count += insert_entries(batch)
                    batch = []
                    if progress:
                        progress(count)
            count += insert_entries(batch)
            index_new_entries(first)
            if progress:
                progress(count)
            tx.record("journal.import", patient_id, {"entries": [None, count],
                                                     "source": [None, source]})
        return count

    # -- reading --------------------------------------------------------------------

    @on_db_thread
    def get(self, entry_id: str) -> Entry:
        return self._get(entry_id)

    @on_db_thread
    def resolve(self, id_or_prefix: str) -> str:
        """The id a person means: the whole id, or a prefix only one entry has (`luna
        list` shows the first 8 characters)."""
        return id_from_prefix(JournalEntry.id, id_or_prefix, "a journal entry")

    @on_db_thread
    def page(self, patient_id: str, filters: JournalFilter | None = None, *,
             limit: int = 50, after: JournalCursor | None = None) -> JournalPage:
        """One page, newest first, starting after `after` (None: the newest)."""
        query = self._filtered(patient_id, filters or JournalFilter())
        if after is not None:
            query = query.where(
                SQL("(entry_date, entry_time, entry_no) < (?, ?, ?)",
                    (after.entry_date, after.entry_time, after.entry_no))
            )
        query = query.order_by(JournalEntry.entry_date.desc(), JournalEntry.entry_time.desc(),
                               JournalEntry.entry_no.desc()).limit(limit + 1)
        rows = [_view(r) for r in query]
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = None
        if more and rows:
            last = rows[-1]
            cursor = JournalCursor(last.entry_date, last.entry_time, last.entry_no)
        return JournalPage(rows, cursor)

    def _filtered(self, patient_id: str, filters: JournalFilter):  # noqa: ANN202
        query = JournalEntry.select().where(JournalEntry.patient == patient_id)
        if filters.mood:
            query = query.where(JournalEntry.mood == filters.mood.strip().lower())
        if filters.tag:
            tags = clean_tags([filters.tag])
            if not tags:
                raise ValidationError("Say which tag to show, like #sleep.", "tag")
            tagged = JournalEntryTag.select(JournalEntryTag.entry).where(
                JournalEntryTag.patient_id == patient_id, JournalEntryTag.tag == tags[0])
            query = query.where(JournalEntry.id.in_(tagged))
        for tag in clean_tags(list(filters.also_tags)):
            tagged = JournalEntryTag.select(JournalEntryTag.entry).where(
                JournalEntryTag.patient_id == patient_id, JournalEntryTag.tag == tag)
            query = query.where(JournalEntry.id.in_(tagged))
        if filters.mood_scale_from is not None:
            query = query.where(JournalEntry.mood_scale >= filters.mood_scale_from)
        if filters.mood_scale_to is not None:
            query = query.where(JournalEntry.mood_scale <= filters.mood_scale_to)
        if filters.favorites_only:
            query = query.where(JournalEntry.favorite == 1)
        if filters.journal_type:
            query = query.where(JournalEntry.journal_type == filters.journal_type)
        if filters.privacy_level:
            query = query.where(JournalEntry.privacy_level == filters.privacy_level)
        if filters.date_from:
            query = query.where(JournalEntry.entry_date >= filters.date_from.isoformat())
        if filters.date_to:
            query = query.where(JournalEntry.entry_date <= filters.date_to.isoformat())
        return query

    @on_db_thread
    def search(self, patient_id: str, text: str, *, limit: int = 50,
               prefix_last: bool = False) -> list[SearchHit]:
        """Entries matching every word, best first, each with a highlighted snippet.

        Ranking a word found in every one of 100,000 entries costs a tenth of a second
        or more, so bm25 ranks the newest RANK_WINDOW matches; a word in fewer entries is
        ranked over all of them. Snippets are made for the winners only.
        """
        match = fts_query(text, prefix_last=prefix_last)
        if match is None:
            return []
        floor = self._rank_window_floor(patient_id, match)
        score = JournalFts.bm25(*BM25_WEIGHTS)
        ranked = list(
            JournalFts.select(JournalFts.rowid, score.alias("score"))
            .join(JournalEntry, on=(JournalEntry.entry_no == JournalFts.rowid))
            .where(JournalFts.match(match), JournalFts.rowid >= floor,
                   JournalEntry.patient == patient_id)
            .order_by(score).limit(limit).tuples()
        )
        if not ranked:
            return []
        numbers = [number for number, _ in ranked]
        snippet = fn.snippet(SQL("journal_fts"), -1, MARK_START, MARK_END, "…", 16)
        snippets = dict(
            JournalFts.select(JournalFts.rowid, snippet)
            .where(JournalFts.match(match), JournalFts.rowid.in_(numbers)).tuples()
        )
        rows = {row.entry_no: _view(row)
                for row in JournalEntry.select().where(JournalEntry.entry_no.in_(numbers))}
        return [SearchHit(rows[number], snippets.get(number) or "", score)
                for number, score in ranked]

    @staticmethod
    def _rank_window_floor(patient_id: str, match: str) -> int:
        """The entry_no of the patient's RANK_WINDOW-th newest match (0 if fewer)."""
        floor = (
            JournalFts.select(JournalFts.rowid)
            .join(JournalEntry, on=(JournalEntry.entry_no == JournalFts.rowid))
            .where(JournalFts.match(match), JournalEntry.patient == patient_id)
            .order_by(JournalFts.rowid.desc()).limit(1).offset(RANK_WINDOW - 1).scalar()
        )
        return floor or 0

    @on_db_thread
    def tag_counts(self, patient_id: str) -> list[tuple[str, int]]:
        count = fn.COUNT(JournalEntryTag.tag)
        query = (JournalEntryTag.select(JournalEntryTag.tag, count.alias("n"))
                 .where(JournalEntryTag.patient_id == patient_id)
                 .group_by(JournalEntryTag.tag).order_by(count.desc(), JournalEntryTag.tag))
        return [(row.tag, row.n) for row in query]

    @on_db_thread
    def moods(self, patient_id: str) -> list[str]:
        query = (JournalEntry.select(JournalEntry.mood).distinct()
                 .where(JournalEntry.patient == patient_id, JournalEntry.mood.is_null(False))
                 .order_by(JournalEntry.mood))
        return [row.mood for row in query]

    @on_db_thread
    def mood_series(self, patient_id: str, start: dt.date, end: dt.date
                    ) -> list[tuple[str, float]]:
        """Average mood scale per day with one, oldest first."""
        average = fn.AVG(JournalEntry.mood_scale)
        query = (JournalEntry.select(JournalEntry.entry_date, average.alias("avg"))
                 .where(JournalEntry.patient == patient_id,
                        JournalEntry.entry_date.between(start.isoformat(), end.isoformat()),
                        JournalEntry.mood_scale.is_null(False))
                 .group_by(JournalEntry.entry_date).order_by(JournalEntry.entry_date))
        return [(row.entry_date, float(row.avg)) for row in query]

    @on_db_thread
    def sleep_series(self, patient_id: str, start: dt.date, end: dt.date
                     ) -> list[tuple[str, float]]:
        """Hours slept per day with a note of it, oldest first."""
        average = fn.AVG(JournalEntry.sleep_hours)
        query = (JournalEntry.select(JournalEntry.entry_date, average.alias("avg"))
                 .where(JournalEntry.patient == patient_id,
                        JournalEntry.entry_date.between(start.isoformat(), end.isoformat()),
                        JournalEntry.sleep_hours.is_null(False))
                 .group_by(JournalEntry.entry_date).order_by(JournalEntry.entry_date))
        return [(row.entry_date, float(row.avg)) for row in query]

    @on_db_thread
    def mood_and_sleep(self, patient_id: str, start: dt.date, end: dt.date, *,
                       by_week: bool = False) -> list[tuple[str, float | None, float | None]]:
        """(day, average mood scale, average hours slept) per day with either — or per
        week, dated by its first such day — oldest first; one pass over the covering
        index (patient, date, mood, sleep)."""
        bucket = monday_of(JournalEntry.entry_date) if by_week else (
            JournalEntry.entry_date)
        query = (JournalEntry.select(fn.MIN(JournalEntry.entry_date),
                                     fn.AVG(JournalEntry.mood_scale),
                                     fn.AVG(JournalEntry.sleep_hours))
                 .where(JournalEntry.patient == patient_id,
                        JournalEntry.entry_date.between(start.isoformat(), end.isoformat()),
                        (JournalEntry.mood_scale.is_null(False))
                        | (JournalEntry.sleep_hours.is_null(False)))
                 .group_by(bucket).order_by(fn.MIN(JournalEntry.entry_date)))
        return [(day, None if mood is None else float(mood),
                 None if sleep is None else float(sleep)) for day, mood, sleep in query.tuples()]

    @on_db_thread
    def count(self, patient_id: str) -> int:
        return JournalEntry.select().where(JournalEntry.patient == patient_id).count()

    # -- checking ---------------------------------------------------------------------

    def _get(self, entry_id: str) -> Entry:
        return _view(self._row(entry_id))

    def _row(self, entry_id: str) -> JournalEntry:
        row = JournalEntry.get_or_none(JournalEntry.id == entry_id)
        if row is None:
            raise NotFound("That journal entry no longer exists.")
        return row

    def _require_patient(self, patient_id: str) -> None:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient no longer exists.")

    def _refuse_future(self, values: dict[str, object]) -> None:
        """FutureEntry if the entry's day is after today, or it is today at a time after
        now's minute (an entry without a time is not in the future today)."""
        now = self.local_now()
        day, time = str(values["entry_date"]), str(values["entry_time"] or "")
        if is_future(day, time, now):
            when = f"{day} {time}".strip()
            raise FutureEntry(f"The entry is dated {when}, in the future (it is now "
                              f"{now:%Y-%m-%d %H:%M}).", day, time)

    def _draft_values(self, draft: EntryDraft, default_privacy: str | None = None
                      ) -> dict[str, object]:
        values = {name: getattr(draft, name) for name in EDITABLE}
        if values["privacy_level"] is None:
            if default_privacy is None:
                from luna_tui.services.settings import Settings

                default_privacy = Settings(self.session).get("journal.default_privacy")
            values["privacy_level"] = default_privacy
        return values

    def _validated(self, values: dict[str, object], *, patient_id: str,
                   check_patient: bool = True, now: dt.datetime | None = None
                   ) -> dict[str, object]:
        if check_patient:
            self._require_patient(patient_id)
        now = now or self.local_now()
        content = str(values.get("content") or "").strip("\n")
        if not content.strip():
            raise ValidationError("The entry is empty; write something first.", "content")
        if len(content) > MAX_CONTENT:
            raise ValidationError(
                f"The entry is too long ({len(content):,} characters; at most "
                f"{MAX_CONTENT:,}).", "content")
        raw_date, raw_time = values.get("entry_date"), values.get("entry_time")
        # "yesterday at 3pm" typed as the date: its time wins over the time field's. (A
        # plain YYYY-MM-DD, as imports bring 100,000 of, has neither a space nor a T.)
        if (isinstance(raw_date, str) and (" " in raw_date.strip() or "T" in raw_date)
                and (moment := parse_moment(raw_date, now.date())) and moment[1]):
            raw_date, raw_time = moment[0], moment[1]
        entry_date = parse_date(raw_date or now.date(), "entry_date", now.date())
        entry_time = "" if raw_time == "" else parse_time(
            raw_time if raw_time is not None else now.strftime("%H:%M"), "entry_time")
        journal_type = choice(values.get("journal_type"), "journal_type", JOURNAL_TYPES, "free")
        prompt = optional_text(values.get("prompt"))
        if journal_type == "prompted" and not prompt:
            raise ValidationError("A prompted entry needs its prompt; pick one from the list.",
                                  "prompt")
        mood = optional_text(values.get("mood"))
        if mood and len(mood) > 40:
            raise ValidationError("The mood is one word or two (at most 40 characters).", "mood")
        return {
            "title": optional_text(values.get("title")),
            "content": content,
            "entry_date": entry_date.isoformat(),
            "entry_time": entry_time,
            "mood": mood.lower() if mood else None,
            "mood_scale": parse_scale(values.get("mood_scale"), "mood_scale", 1, 10),
            "sleep_hours": parse_optional_number(values.get("sleep_hours"), "sleep_hours",
                                                 low=0, high=24, unit="hours"),
            "emotions": clean_words(values.get("emotions")),
            "tags": clean_tags(values.get("tags")),
            "journal_type": journal_type,
            "prompt": prompt,
            "privacy_level": choice(values.get("privacy_level"), "privacy_level",
                                    PRIVACY_LEVELS, "private"),
            "favorite": 1 if values.get("favorite") else 0,
            "session_id": values.get("session_id") or None,
        }


def _stored(value: object) -> object:
    """A value as compared for changes: lists as lists, booleans as 0/1."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bool):
        return int(value)
    return value
