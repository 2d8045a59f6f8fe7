"""The hand-off PDF from plain dataclasses, read back as a clinician's PDF reader
would: its text extracted with pypdf (the reader Luna already has)."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest

from luna_tui.services.appointments import AppointmentView
from luna_tui.services.handoff.contents import (
    DayValue,
    HandoffContents,
    MedicationSummary,
)
from luna_tui.services.handoff.pdf_document import footer_text, render_pdf
from luna_tui.services.handoff.pdf_layout import paragraph
from luna_tui.services.handoff.pdf_sections import INSIGHTS_TITLE, SECTIONS
from luna_tui.services.insights.rows import InsightRow, describe
from luna_tui.services.medications import Adherence, EventView, MedicationView
from luna_tui.services.patients import PatientView
from luna_tui.services.vitals import VitalView

START, END, TODAY = dt.date(2026, 11, 1), dt.date(2026, 11, 30), dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
EVERYTHING = frozenset({"meds", "doses", "vitals", "mood", "sleep", "appointments"})


def patient(name: str = "Łukasz Nowak") -> PatientView:
    return PatientView("p1", name, "1980-05-01", "self", None, None, None, "Dr Rivera",
                       "555 0100", "penicillin", None, True, "", "")


def metformin() -> MedicationSummary:
    medication = MedicationView(
        "m1", "p1", "Metformin", "1000 mg", "twice daily", "oral", None, None, None,
        "2026-01-10", None, None, None, None, None, None, ("08:00", "20:00"), True, "", "")
    history = (EventView("e1", "m1", "Metformin", "started", "2026-01-10", None, "500 mg", None),
               EventView("e2", "m1", "Metformin", "dose_changed", "2026-11-12", "500 mg",
                         "1000 mg", None))
    return MedicationSummary(medication, history, Adherence(58, 50, 2, 4, 2))


def contents(**changes) -> HandoffContents:
    values = dict(
        patient=patient(), start=START, end=END, today=TODAY, include=EVERYTHING,
        medications=(metformin(),), doses_logged=58,
        vitals=tuple(VitalView(f"v{d}", "p1", "heart_rate", 60 + d, None, "bpm",
                               f"2026-11-{d:02d}T08:00", None) for d in range(1, 29, 3)),
        mood=tuple(DayValue(START + dt.timedelta(days=d), 3 + d % 5) for d in range(30)),
        sleep=tuple(DayValue(START + dt.timedelta(days=d), 6 + d % 3) for d in range(30)),
        appointments=(AppointmentView(
            "a1", "p1", "2026-12-04", "09:30", 30, "specialist", "Dr Okafor", "Clinic 3",
            "knee review", None, "scheduled", None, False, None, "", ""),))
    values.update(changes)
    return HandoffContents(**values)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_holds_the_person_their_medications_and_the_footer():
    text = pdf_text(render_pdf(contents(), now=NOW))
    for expected in ("Łukasz Nowak", "1980-05-01", "penicillin", "Dr Rivera", "Metformin",
                     "1000 mg", "dose changed from 500 mg to 1000 mg", "90% (52 of 58)",
                     "Dr Okafor", "2026-12-04", "Heart rate (bpm): 10 readings",
                     "normal at rest 60–100 bpm", "Mood (1-10", "Sleep (hours a night)"):
        assert expected in text, expected
    assert footer_text(TODAY) in text.replace("\n", " ")
    assert "not a medical device" in footer_text(TODAY)


def test_a_kind_not_included_leaves_its_section_out():
    text = pdf_text(render_pdf(contents(include=frozenset({"meds"})), now=NOW))
    assert "Metformin" in text
    assert "Heart rate" not in text and "Mood" not in text and "Dr Okafor" not in text
    assert "doses not included" in text  # adherence needs the doses


def test_characters_the_font_lacks_are_replaced_visibly_the_rest_printed():
    text = pdf_text(render_pdf(contents(patient=patient("Дмитрий 王")), now=NOW))
    assert "Дмитрий \ufffd" in text


def test_a_section_added_to_the_list_is_printed_after_the_others():
    def insights(pdf, _contents):
        paragraph(pdf, "Insight: sleep was shorter after the dose change.")

    text = pdf_text(render_pdf(contents(), now=NOW, sections=[*SECTIONS, insights]))
    assert "Insight: sleep was shorter" in text
    assert text.index("Insight") > text.index("Metformin")


@pytest.mark.parametrize("kind", ["mood", "sleep"])
def test_medication_changes_in_the_period_are_listed_under_the_charts(kind):
    text = pdf_text(render_pdf(contents(include=frozenset({"meds", kind})), now=NOW))
    assert "1  2026-11-12  Metformin: dose changed" in text


def insight(measure: str, label: str, unit: str, verdict: str, difference: float | None,
            lag: int | None) -> InsightRow:
    return InsightRow(
        "Metformin", "dose changed", "2026-11-12", measure, label, unit, 6.0,
        None if difference is None else 6.0 + difference, difference,
        None if difference is None else difference - 0.8,
        None if difference is None else difference + 0.8, 13, 12, lag, verdict,
        ("Sertraline started on 15 Nov 2026, 3 days after.",), 14, 0.01)


def test_the_insights_page_is_a_page_of_its_own_in_describes_words():
    rows = (insight("mood", "Mood", "", "clear change", 1.9, 3),
            insight("sleep", "Sleep", "h", "no clear change", -0.2, None),
            insight("weight", "Weight", "kg", "not enough data", None, None))
    data = render_pdf(contents(include=EVERYTHING | {"insights"}, insights=rows), now=NOW)
    pages = [" ".join(p.extract_text().split())
             for p in pypdf.PdfReader(io.BytesIO(data)).pages]
    assert INSIGHTS_TITLE in pages[-1] and not any(INSIGHTS_TITLE in p for p in pages[:-1])
    for row in rows:
        assert describe(row) in pages[-1], describe(row)
    assert "Mood rose by 1.9 after Metformin dose changed on 12 Nov 2026, from 3 days " \
        "after it: a clear change" in pages[-1]
    assert INSIGHTS_TITLE not in pdf_text(render_pdf(contents(), now=NOW))  # not asked for


def test_changes_with_nothing_recorded_around_them_are_said_to_have_nothing_to_weigh():
    text = pdf_text(render_pdf(contents(include=frozenset({"meds", "mood", "insights"}),
                                        mood=()), now=NOW))
    assert "Nothing was recorded around this period's medication changes to weigh them " \
        "against." in " ".join(text.split())
