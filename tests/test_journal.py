"""The journal service: writing, validation, tags, filters, keyset pages, full-text
search kept in step by triggers, audit diffs and read-only keys."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.errors import NotFound, ReadOnlyKey, ValidationError
from luna_tui.services.journal import RANK_WINDOW, EntryDraft, Journal, JournalFilter
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.settings import Settings
from luna_tui.services.text_search import MARK_END, MARK_START, fts_query
from luna_tui.services.vault_session import VaultSession
from luna_tui.store.models.audit import AuditEvent
from luna_tui.store.models.journal import JournalEntryTag


@pytest.fixture
def journal(session):
    return Journal(session)


@pytest.fixture
def me(session):
    return Settings(session).current_patient_id()


def write(journal, me, content, **fields):
    return journal.create(me, EntryDraft(content=content, **fields))


def test_an_entry_keeps_every_field(journal, me, clock):
    entry = write(journal, me, "Slept badly, knee sore", title="Bad night", mood="Tired",
                  mood_scale=4, sleep_hours="5,5", emotions="worried, tired",
                  tags="#sleep knee", favorite=True, entry_date="yesterday",
                  entry_time="8am", privacy_level="private")
    again = journal.get(entry.id)
    assert again == entry
    assert (entry.title, entry.mood, entry.mood_scale, entry.sleep_hours) == (
        "Bad night", "tired", 4, 5.5)
    assert entry.emotions == ("worried", "tired") and entry.tags == ("sleep", "knee")
    assert (entry.entry_date, entry.entry_time) == ("2026-11-21", "08:00")
    assert entry.favorite and entry.privacy_level == "private"
    assert entry.created_at == entry.updated_at


def test_defaults_are_now_today_and_the_privacy_setting(journal, me, session):
    entry = write(journal, me, "Plain note")
    assert entry.entry_date == "2026-11-22" and entry.privacy_level == "shared"
    Settings(session).set("journal.default_privacy", "private")
    assert write(journal, me, "Another").privacy_level == "private"


@pytest.mark.parametrize(("fields", "message"), [
    ({"content": "   "}, "empty"),
    ({"content": "x", "mood_scale": 11}, "goes from 1 to 10"),
    ({"content": "x", "entry_date": "2026-02-30"}, "not a date"),
    ({"content": "x", "entry_time": "25:00"}, "not a time"),
    ({"content": "x", "sleep_hours": 30}, "not possible"),
    ({"content": "x", "journal_type": "essay"}, "not a journal type"),
    ({"content": "x", "journal_type": "prompted"}, "needs its prompt"),
    ({"content": "x", "privacy_level": "public"}, "not a privacy level"),
])
def test_bad_input_is_a_sentence_and_saves_nothing(journal, me, fields, message):
    with pytest.raises(ValidationError, match=message):
        journal.create(me, EntryDraft(**fields))
    assert journal.count(me) == 0


def test_update_changes_only_what_it_is_given(journal, me, clock):
    entry = write(journal, me, "First draft", tags=["a"])
    clock.advance(minutes=5)
    changed = journal.update(entry.id, content="Second draft", mood_scale=6)
    assert changed.content == "Second draft" and changed.mood_scale == 6
    assert changed.tags == ("a",) and changed.created_at == entry.created_at
    assert changed.updated_at > entry.updated_at
    with pytest.raises(ValidationError, match="no field"):
        journal.update(entry.id, colour="blue")


def test_toggle_favorite_and_delete(journal, me):
    entry = write(journal, me, "Star me")
    assert journal.toggle_favorite(entry.id).favorite
    assert not journal.toggle_favorite(entry.id).favorite
    journal.delete(entry.id)
    with pytest.raises(NotFound):
        journal.get(entry.id)


# -- full-text search -----------------------------------------------------------------


def test_search_stays_in_step_with_insert_update_and_delete(journal, me):
    entry = write(journal, me, "The physiotherapist showed me a stretch", tags=["knee"])
    assert [h.entry.id for h in journal.search(me, "physiotherapist")] == [entry.id]
    assert [h.entry.id for h in journal.search(me, "knee")] == [entry.id]  # tags are indexed
    journal.update(entry.id, content="The osteopath showed me a stretch", tags=["back"])
    assert journal.search(me, "physiotherapist") == []
    assert journal.search(me, "knee") == []
    assert [h.entry.id for h in journal.search(me, "osteopath back")] == [entry.id]
    journal.delete(entry.id)
    assert journal.search(me, "osteopath") == []


def test_search_ranks_title_matches_first_and_highlights_matches(journal, me):
    write(journal, me, "A long day. Lunch, errands, and a short walk by the river.")
    titled = write(journal, me, "Nothing much else happened.", title="River walk")
    hits = journal.search(me, "river")
    assert [h.entry.id for h in hits][0] == titled.id
    assert len(hits) == 2
    body_hit = hits[1]
    assert f"{MARK_START}river{MARK_END}" in body_hit.snippet
    assert ("river", True) in body_hit.snippet_parts()


def test_search_needs_every_word_takes_phrases_and_prefixes(journal, me):
    a = write(journal, me, "knee pain after the walk")
    b = write(journal, me, "pain in the knee")
    assert {h.entry.id for h in journal.search(me, "knee pain")} == {a.id, b.id}
    assert [h.entry.id for h in journal.search(me, '"knee pain"')] == [a.id]
    assert {h.entry.id for h in journal.search(me, "kne", prefix_last=True)} == {a.id, b.id}
    assert journal.search(me, "kne") == []


def test_search_is_safe_against_any_input(journal, me):
    write(journal, me, "an ordinary day")
    for query in ('AND OR NOT', '"unclosed', "col:value", "a*b(", "NEAR(x y)", "' ; DROP",
                  "", "***"):
        journal.search(me, query)  # never a syntax error
    assert fts_query('knee "left side" *') == '"knee" "left side"'


def test_search_finds_words_without_their_accents(journal, me):
    entry = write(journal, me, "Café with Zoë, felt naïve")
    assert [h.entry.id for h in journal.search(me, "cafe zoe naive")] == [entry.id]


def test_a_word_in_many_entries_ranks_the_newest_window(journal, me, monkeypatch):
    monkeypatch.setattr("luna_tui.services.journal.RANK_WINDOW", 3)
    old = write(journal, me, "walk walk walk walk in the rain", entry_date="2020-01-01")
    newer = [write(journal, me, f"a walk, day {i}") for i in range(5)]
    hits = journal.search(me, "walk", limit=10)
    assert {h.entry.id for h in hits} == {e.id for e in newer[-3:]}
    assert old.id not in {h.entry.id for h in hits}
    assert [h.entry.id for h in journal.search(me, "rain")] == [old.id]  # rare: all ranked


def test_search_is_per_patient(journal, me, session):
    from luna_tui.services.patients import Patients

    other = Patients(session).create("Mum")
    write(journal, me, "zeppelin over the house")
    assert journal.search(other.id, "zeppelin") == []


# -- tags, filters and pages -------------------------------------------------------------


def test_tags_are_rows_kept_in_step_by_triggers(journal, me, session):
    entry = write(journal, me, "x", tags=["sleep", "knee"])
    write(journal, me, "y", tags=["sleep"])
    assert journal.tag_counts(me) == [("sleep", 2), ("knee", 1)]
    journal.update(entry.id, tags=["walk"])
    assert journal.tag_counts(me) == [("sleep", 1), ("walk", 1)]
    journal.delete(entry.id)
    rows = session.run(lambda: [(t.tag, t.patient_id) for t in JournalEntryTag.select()])
    assert rows == [("sleep", me)]


def test_filters_by_mood_tag_favorite_type_privacy_and_dates(journal, me):
    a = write(journal, me, "a", mood="calm", tags=["walk"], favorite=True,
              entry_date="2026-11-01")
    b = write(journal, me, "b", mood="anxious", journal_type="prompted", prompt="Why?",
              privacy_level="private", entry_date="2026-11-10")
    c = write(journal, me, "c", mood="calm", entry_date="2026-11-20")

    def ids(**f):
        return [e.id for e in journal.page(me, JournalFilter(**f)).entries]

    assert ids(mood="Calm") == [c.id, a.id]
    assert ids(tag="#walk") == [a.id]
    assert ids(favorites_only=True) == [a.id]
    assert ids(journal_type="prompted") == [b.id]
    assert ids(privacy_level="private") == [b.id]
    assert ids(date_from=dt.date(2026, 11, 5), date_to=dt.date(2026, 11, 15)) == [b.id]
    assert journal.moods(me) == ["anxious", "calm"]


def test_keyset_pages_cover_every_entry_once_newest_first(journal, me):
    written = [write(journal, me, f"entry {i}", entry_date=f"2026-11-{1 + i // 3:02d}",
                     entry_time="09:00" if i % 3 else "") for i in range(25)]
    seen, cursor = [], None
    while True:
        page = journal.page(me, limit=4, after=cursor)
        seen += page.entries
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(e.id for e in seen) == sorted(e.id for e in written)
    assert len(seen) == len({e.id for e in seen}) == 25
    order = [(e.entry_date, e.entry_time, e.entry_no) for e in seen]
    assert order == sorted(order, reverse=True)


def test_mood_and_sleep_series_average_per_day(journal, me):
    write(journal, me, "a", mood_scale=4, sleep_hours=6, entry_date="2026-11-20")
    write(journal, me, "b", mood_scale=8, sleep_hours=8, entry_date="2026-11-20")
    write(journal, me, "c", mood_scale=5, entry_date="2026-11-21")
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    assert journal.mood_series(me, start, end) == [("2026-11-20", 6.0), ("2026-11-21", 5.0)]
    assert journal.sleep_series(me, start, end) == [("2026-11-20", 7.0)]


# -- audit and keys ----------------------------------------------------------------------


def test_every_write_is_audited_with_its_diff_but_not_its_words(journal, me, session):
    entry = write(journal, me, "Private words here", mood_scale=3, tags=["secret-tag"])
    journal.update(entry.id, mood_scale=5)
    journal.delete(entry.id)
    rows = session.run(lambda: [(r.event_name, r.record_locator, r.diff) for r in
                                AuditEvent.select().where(AuditEvent.event_name.startswith(
                                    "journal."))])
    assert [(name, locator) for name, locator, _ in rows] == [
        ("journal.create", entry.id), ("journal.update", entry.id), ("journal.delete", entry.id)]
    create, update, delete = (json.loads(diff) for _, _, diff in rows)
    assert create["mood_scale"] == [None, 3]
    assert create["content"] == [None, "<18 characters>"]
    assert update == {"mood_scale": [3, 5]}
    assert delete["content"] == ["<18 characters>", None]
    assert "Private words" not in json.dumps(rows) and "secret-tag" not in json.dumps(rows)


def test_a_read_only_key_reads_the_journal_but_cannot_write(layout, session, journal, me):
    entry = write(journal, me, "Visible to the caregiver")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    with VaultSession.open(layout, OTHER_PASSPHRASE) as caregiver:
        journal = Journal(caregiver)
        assert journal.get(entry.id).content == "Visible to the caregiver"
        assert journal.search(me, "caregiver")
        for attempt in (lambda: journal.create(me, EntryDraft(content="x")),
                        lambda: journal.update(entry.id, content="y"),
                        lambda: journal.delete(entry.id),
                        lambda: journal.toggle_favorite(entry.id)):
            with pytest.raises(ReadOnlyKey, match="read-only key 'caregiver'"):
                attempt()
    with VaultSession.open(layout, PASSPHRASE) as owner:
        assert Journal(owner).get(entry.id).content == "Visible to the caregiver"


# -- bulk import ------------------------------------------------------------------------


def test_bulk_import_indexes_everything_and_keeps_the_triggers(journal, me, session):
    drafts = [EntryDraft(content=f"imported zeppelin {i}", tags=["imported", f"n{i % 3}"],
                         entry_date="2026-10-01") for i in range(2500)]
    progress = []
    assert journal.import_entries(me, drafts, source="test", progress=progress.append) == 2500
    assert progress[-1] == 2500
    # A search ranks at most the newest RANK_WINDOW matches.
    assert len(journal.search(me, "zeppelin", limit=5000)) == min(2500, RANK_WINDOW)
    assert dict(journal.tag_counts(me))["imported"] == 2500
    later = write(journal, me, "written after the import", tags=["after"])  # triggers are back
    assert [h.entry.id for h in journal.search(me, "written")] == [later.id]
    assert ("after", 1) in journal.tag_counts(me)
    events = session.run(lambda: [r.event_name for r in AuditEvent.select().where(
        AuditEvent.event_name == "journal.import")])
    assert events == ["journal.import"]


def test_a_bad_entry_in_a_bulk_import_leaves_nothing_behind(journal, me, session):
    from luna_tui.store.models.base import database

    drafts = [EntryDraft(content=f"fine {i}") for i in range(1500)]
    drafts.append(EntryDraft(content="broken", mood_scale=42))
    with pytest.raises(ValidationError, match="goes from 1 to 10"):
        journal.import_entries(me, drafts, source="test")
    assert journal.count(me) == 0
    triggers = session.run(lambda: {r[0] for r in database.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")})
    assert {"journal_entries_fts_insert", "journal_entries_tags_insert"} <= triggers
    later = write(journal, me, "still indexed", tags=["ok"])
    assert [h.entry.id for h in journal.search(me, "indexed")] == [later.id]


@pytest.mark.parametrize("bare", ["#", "@", " # "])
def test_a_tag_filter_with_no_tag_in_it_says_so(journal, me, bare):
    write(journal, me, "Knee ached", tags=["knee"])
    with pytest.raises(ValidationError, match="which tag"):
        journal.page(me, JournalFilter(tag=bare))
