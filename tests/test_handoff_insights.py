"""The hand-off's insights page, as written to disk and read back with pypdf: it says
what `describe` says for each change of the period, in its words; a private entry's
mood never counts (one that would turn a clear change into no clear change); a period
without medication changes says so; the preview lists the page; and the page is asked
for only with what it weighs."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest
from handoff_data import fill

from insight_data import PLANTED_LAG, plant_mood
from luna_tui.errors import ValidationError
from luna_tui.services.handoff.choices import DEFAULT_INCLUDE, HandoffChoice, parse_include
from luna_tui.services.handoff.packet import write_packet
from luna_tui.services.handoff.pdf_sections import INSIGHTS_TITLE
from luna_tui.services.handoff.preview import HandoffPreviews
from luna_tui.services.insights.before_after import AnalysisSettings
from luna_tui.services.insights.rows import describe
from luna_tui.services.insights.summary import insights_summary
from luna_tui.services.journal import EntryDraft, Journal

FAST = AnalysisSettings(permutations=400, resamples=400)
LOW_PRIVATE_MOOD = 3  # against the planted after-days' 7: the day's mean back to 5


def pages(data: bytes) -> list[str]:
    """Each page's text, its lines joined: a sentence wrapped by the PDF reads whole."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def written_pdf(session, choice: HandoffChoice, folder) -> bytes:
    written = write_packet(session, choice, folder, insight_settings=FAST)
    [pdf] = [name for name in written.files if name.endswith(".pdf")]
    return (folder / pdf).read_bytes()


def mood_row(rows):
    [row] = [r for r in rows if r.measure == "mood"]
    return row


def test_the_page_says_what_describe_says_and_no_private_mood_counts(session, clock,
                                                                     tmp_path):
    me, start = plant_mood(session, clock, privacy="shared")
    journal = Journal(session)
    for offset in range(PLANTED_LAG, 28):  # every day of the rise gets a low private mood
        day = (start + dt.timedelta(days=offset)).isoformat()
        journal.create(me, EntryDraft(content="A private day", entry_date=day,
                                      mood_scale=LOW_PRIVATE_MOOD, privacy_level="private"))
    end = clock.today()
    shown = mood_row(insights_summary(session, me, start, end, settings=FAST))
    with_private = mood_row(insights_summary(session, me, start, end, include_private=True,
                                             settings=FAST))
    # The private entries matter: counted, they would undo the change.
    assert shown.verdict == "clear change" and with_private.verdict != "clear change"

    text = pages(written_pdf(session, HandoffChoice(me, start, end, DEFAULT_INCLUDE),
                             tmp_path / "out"))
    assert INSIGHTS_TITLE in text[-1] and not any(INSIGHTS_TITLE in p for p in text[:-1])
    assert describe(shown) in text[-1]
    assert describe(with_private) not in text[-1]
    assert "not enough data" in text[-1] and "p < 0.05" in text[-1]  # the rules, said


def test_a_period_without_medication_changes_says_so(session, clock, tmp_path):
    filled = fill(session, clock.today(), tmp_path)
    start = clock.today() - dt.timedelta(days=5)  # after Metformin's dose change
    choice = HandoffChoice(filled.patient_id, start, clock.today(), DEFAULT_INCLUDE)
    assert HandoffPreviews(session).preview(choice).count("insights") == 0
    text = pages(written_pdf(session, choice, tmp_path / "out"))
    assert (f"No medication was started, stopped or changed from {start.isoformat()} to "
            f"{clock.today().isoformat()}: there is no change to weigh.") in text[-1]


def test_the_page_weighs_only_the_kinds_the_handoff_holds(session, clock, tmp_path):
    filled = fill(session, clock.today(), tmp_path)
    choice = HandoffChoice(filled.patient_id, filled.start, filled.end,
                           frozenset({"meds", "vitals", "insights"}))
    assert HandoffPreviews(session).preview(choice).count_line("insights") == (
        "Medication changes on the insights page: 1")
    every = insights_summary(session, filled.patient_id, filled.start, filled.end,
                             settings=FAST)
    vitals = [r for r in every if r.measure not in ("mood", "sleep")]
    assert {r.measure for r in vitals} == {"blood_pressure_systolic",
                                           "blood_pressure_diastolic", "heart_rate"}
    text = pages(written_pdf(session, choice, tmp_path / "out"))[-1]
    assert all(describe(row) in text for row in vitals)
    left_out = [r for r in every if r.measure in ("mood", "sleep")]
    assert len(left_out) == 2 and not any(describe(row) in text for row in left_out)


@pytest.mark.parametrize("typed", ["insights", "meds,insights", "mood,vitals,insights"])
def test_the_page_is_asked_for_only_with_what_it_weighs(typed):
    with pytest.raises(ValidationError, match="include meds and at least one of them"):
        parse_include(typed)
    assert "insights" in parse_include("meds,sleep,insights")
    assert "insights" in DEFAULT_INCLUDE
