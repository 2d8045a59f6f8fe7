"""The sections of the hand-off PDF, in the order a clinician reads them: who, what
they take and how regularly, what is coming, the vitals, mood and sleep, the chosen
records, the notes shared with the therapist, and last, on a page of its own, the
insights: how mood, sleep and vitals moved after each medication change, in the very
sentences the Insights place and `luna insights` say (services/insights/rows.py).

SECTIONS is a list of functions (pdf, contents) → None, each writing its part or
nothing when its kind is not included; a new section (an insights page) is one more
function in the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import groupby
from typing import Any

from luna_tui.services.calendar_export import appointment_title
from luna_tui.services.handoff.choices import INSIGHT_SOURCES, INSIGHTS
from luna_tui.services.handoff.contents import HandoffContents, MedicationSummary
from luna_tui.services.handoff.pdf_charts import Chart, Series, draw_chart
from luna_tui.services.handoff.pdf_layout import (
    BODY_SIZE,
    FAMILY,
    LINE,
    SMALL_SIZE,
    heading,
    labelled,
    paragraph,
    table,
)
from luna_tui.services.handoff.pdf_text import drawable
from luna_tui.services.handoff.reference_ranges import SLEEP_HOURS, reference_ranges
from luna_tui.services.insights.before_after import AnalysisSettings
from luna_tui.services.insights.rows import InsightRow, describe, honesty_rules
from luna_tui.services.medications import Adherence, EventView
from luna_tui.services.vitals import KINDS, VitalView

Section = Callable[[Any, HandoffContents], None]
CHART_HEIGHT = 32.0  # mm
CHART_BLOCK = CHART_HEIGHT + LINE * 3  # mm: a chart with its title above, labels below
MOOD_SCALE = (0.5, 10.5)  # the journal's 1-10, whole
INSIGHTS_TITLE = "Medication changes and how mood, sleep and vitals moved"
EVENT_WORDS = {"started": "started", "stopped": "stopped", "dose_changed": "dose changed",
               "resumed": "resumed"}


def title(pdf: Any, contents: HandoffContents) -> None:
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 9, drawable(pdf, f"Health summary: {contents.patient.name}"),
             new_x="LMARGIN", new_y="NEXT")
    paragraph(pdf, f"From {contents.start.isoformat()} to {contents.end.isoformat()}, "
              f"made on {contents.today.isoformat()}. Kept by the person in Luna, a "
              "personal health journal; values are as they recorded them.", muted=True,
              size=SMALL_SIZE)


def person(pdf: Any, contents: HandoffContents) -> None:
    patient = contents.patient
    heading(pdf, "The person")
    labelled(pdf, "Name", patient.name)
    if patient.date_of_birth:
        age = patient.age(contents.today)
        labelled(pdf, "Born", f"{patient.date_of_birth} (age {age})")
    if patient.gender:
        labelled(pdf, "Gender", patient.gender)
    labelled(pdf, "Allergies", patient.allergies or "none recorded")
    doctor = ", ".join(p for p in (patient.primary_doctor, patient.doctor_phone) if p)
    labelled(pdf, "Doctor", doctor or "none recorded")
    if patient.emergency_contact:
        labelled(pdf, "Emergency contact", patient.emergency_contact)


def medications(pdf: Any, contents: HandoffContents) -> None:
    if "meds" not in contents.include:
        return
    heading(pdf, "Medications")
    current = [m for m in contents.medications if m.medication.active]
    stopped = [m for m in contents.medications if not m.medication.active]
    if not contents.medications:
        paragraph(pdf, "No medications recorded.", muted=True)
        return
    period = "" if "doses" in contents.include else " (doses not included)"
    rows = [_medication_row(m) for m in current + stopped]
    table(pdf, ("Medication", "Dose", "How often", "Since", f"Taken in the period{period}"),
          rows, (0.24, 0.14, 0.2, 0.14, 0.28))
    changes = [(m.medication.name, e) for m in contents.medications for e in m.history
               if e.event_type != "started"]
    if changes:
        paragraph(pdf, "Dose changes and stops", bold=True, size=SMALL_SIZE)
        for name, event in sorted(changes, key=lambda c: c[1].event_date):
            paragraph(pdf, f"{event.event_date}  {name}: {_event_words(event)}",
                      size=SMALL_SIZE)


def _medication_row(summary: MedicationSummary) -> tuple[str, ...]:
    medication = summary.medication
    name = medication.name if medication.active else f"{medication.name} (stopped " \
        f"{medication.end_date or ''})".replace(" )", ")")
    return (name, medication.dosage, medication.frequency, medication.start_date or "",
            _adherence_words(summary.adherence))


def _adherence_words(adherence: Adherence | None) -> str:
    if adherence is None:
        return ""
    if adherence.percent is None:
        return "no scheduled doses"
    words = f"{adherence.percent:.0f}% ({adherence.taken + adherence.late} of " \
            f"{adherence.expected})"
    details = [f"{n} {what}" for n, what in ((adherence.late, "late"),
                                             (adherence.missed, "missed"),
                                             (adherence.skipped, "skipped"),
                                             (adherence.unlogged, "not logged")) if n]
    return words + (": " + ", ".join(details) if details else "")


def _event_words(event: EventView) -> str:
    what = EVENT_WORDS.get(event.event_type, event.event_type)
    if event.event_type == "dose_changed" and event.old_value and event.new_value:
        what += f" from {event.old_value} to {event.new_value}"
    elif event.new_value and event.event_type != "stopped":
        what += f", {event.new_value}"
    return what + (f" ({event.notes})" if event.notes else "")


def appointments(pdf: Any, contents: HandoffContents) -> None:
    if "appointments" not in contents.include:
        return
    heading(pdf, "Upcoming appointments")
    if not contents.appointments:
        paragraph(pdf, "None planned.", muted=True)
        return
    table(pdf, ("Date", "Time", "What", "Where", "Reason"),
          [(a.appointment_date, a.appointment_time or "all day", appointment_title(a),
            a.location or "", a.reason or "") for a in contents.appointments],
          (0.14, 0.1, 0.3, 0.2, 0.26))


def vitals(pdf: Any, contents: HandoffContents) -> None:
    if "vitals" not in contents.include:
        return
    heading(pdf, "Vitals", keep=CHART_BLOCK)
    if not contents.vitals:
        paragraph(pdf, "No readings in the period.", muted=True)
        return
    readings = sorted(contents.vitals, key=lambda v: (v.kind, v.unit, v.measured_at))
    for (kind, unit), group in groupby(readings, key=lambda v: (v.kind, v.unit)):
        _vital_chart(pdf, contents, kind, unit, list(group))


def _vital_chart(pdf: Any, contents: HandoffContents, kind: str, unit: str,
                 readings: list[VitalView]) -> None:
    label = KINDS[kind].label if kind in KINDS else kind.replace("_", " ").capitalize()
    latest = readings[-1]
    series = [Series(label, [(_day(v.measured_at), v.value) for v in readings])]
    if any(v.value2 is not None for v in readings):
        second = KINDS[kind].second_value if kind in KINDS else None
        series = [Series("systolic" if second else label, series[0].points),
                  Series(second or "second value", [(_day(v.measured_at), v.value2)
                                                    for v in readings
                                                    if v.value2 is not None])]
    _chart_block(pdf, Chart(
        f"{label} ({unit}): {len(readings)} reading{'s' if len(readings) != 1 else ''}, "
        f"latest {latest.display_value} on {latest.measured_at[:10]}",
        contents.start, contents.end, series, reference_ranges(kind, unit)))


def mood_and_sleep(pdf: Any, contents: HandoffContents) -> None:
    wanted = [k for k in ("mood", "sleep") if k in contents.include]
    if not wanted:
        return
    heading(pdf, " and ".join(w.capitalize() if i == 0 else w for i, w in enumerate(wanted)),
            keep=CHART_BLOCK)
    changes = contents.changes_in_period() if "meds" in contents.include else []
    marks = [(dt.date.fromisoformat(e.event_date), str(n))
             for n, e in enumerate(changes, start=1)]
    if "mood" in wanted:
        _daily_chart(pdf, contents, "Mood (1-10, the day's average)", contents.mood, marks)
    if "sleep" in wanted:
        _daily_chart(pdf, contents, "Sleep (hours a night)", contents.sleep, marks,
                     sleep=True)
    if changes:
        paragraph(pdf, "Medication changes marked on the charts:", bold=True,
                  size=SMALL_SIZE)
        for n, event in enumerate(changes, start=1):
            paragraph(pdf, f"{n}  {event.event_date}  {event.medication_name}: "
                      f"{_event_words(event)}", size=SMALL_SIZE)
    paragraph(pdf, "From journal entries the person did not mark private; private "
              "entries are never included.", muted=True, size=SMALL_SIZE)


def _daily_chart(pdf: Any, contents: HandoffContents, what: str, values: tuple,
                 marks: list[tuple[dt.date, str]], *, sleep: bool = False) -> None:
    if not values:
        paragraph(pdf, f"{what}: nothing recorded in the period.", muted=True)
        return
    average = sum(v.value for v in values) / len(values)
    _chart_block(pdf, Chart(
        f"{what}: {len(values)} day{'s' if len(values) != 1 else ''}, average {average:.1f}",
        contents.start, contents.end, [Series(what.split(" (")[0].lower(),
                                              [(v.day, v.value) for v in values])],
        (SLEEP_HOURS,) if sleep else (), marks, scale=None if sleep else MOOD_SCALE))


def records(pdf: Any, contents: HandoffContents) -> None:
    if "records" not in contents.include:
        return
    heading(pdf, "Records chosen by the person")
    for record in contents.records:
        paragraph(pdf, f"{record.title}", bold=True)
        paragraph(pdf, f"{record.type_label} · {record.event_date or 'no date'}",
                  muted=True, size=SMALL_SIZE)
        if record.description:
            paragraph(pdf, record.description, size=SMALL_SIZE)
        if record.attachments:
            files = ", ".join(a.file_name for a in record.attachments)
            paragraph(pdf, f"Attached: {files}", muted=True, size=SMALL_SIZE)
        pdf.ln(1)


def journal(pdf: Any, contents: HandoffContents) -> None:
    if "journal" not in contents.include:
        return
    heading(pdf, "Journal entries shared with the therapist")
    if not contents.journal:
        paragraph(pdf, "None in the period.", muted=True)
    for note in contents.journal:
        paragraph(pdf, f"{note.day.isoformat()}  {note.title}".strip(), bold=True,
                  size=SMALL_SIZE)
        paragraph(pdf, note.text, size=SMALL_SIZE)


def insights(pdf: Any, contents: HandoffContents) -> None:
    if INSIGHTS not in contents.include:
        return
    pdf.add_page()
    heading(pdf, INSIGHTS_TITLE)
    paragraph(pdf, _how_to_read(contents), muted=True, size=SMALL_SIZE)
    pdf.ln(1)
    if not contents.changes_in_period():
        paragraph(pdf, f"No medication was started, stopped or changed from "
                  f"{contents.start.isoformat()} to {contents.end.isoformat()}: there is no "
                  "change to weigh.")
        return
    if not contents.insights:
        paragraph(pdf, "Nothing was recorded around this period's medication changes to "
                  "weigh them against.")
        return
    changes: dict[tuple[str, str, str], list[InsightRow]] = {}
    for row in contents.insights:
        changes.setdefault((row.date, row.medication, row.event), []).append(row)
    for (day, medication, event), rows in changes.items():
        paragraph(pdf, f"{day}  {medication} {event}", bold=True, size=SMALL_SIZE)
        for row in rows:
            paragraph(pdf, describe(row), size=SMALL_SIZE)
        pdf.ln(1)


def _how_to_read(contents: HandoffContents) -> str:
    """The honesty rules, with the window the rows were computed with."""
    default = AnalysisSettings()
    window = contents.insights[0].window if contents.insights else default.window
    weighed = ", ".join(k for k in INSIGHT_SOURCES if k in contents.include)
    return (f"{honesty_rules(window, default.max_lag)} Weighed here: {weighed}, for the "
            "changes of the period; their windows may reach outside it. Private journal "
            "entries never count. These are associations in the person's own records, not "
            "proof that a medication caused them.")


def _chart_block(pdf: Any, chart: Chart) -> None:
    """A chart with its title above, moved whole to the next page if it would not fit."""
    if pdf.will_page_break(CHART_BLOCK):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", BODY_SIZE * 0.9)
    pdf.cell(0, LINE, drawable(pdf, chart.title), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 0.5
    width = pdf.w - pdf.l_margin - pdf.r_margin
    draw_chart(pdf, chart, pdf.l_margin, top, width, CHART_HEIGHT)
    pdf.set_xy(pdf.l_margin, top + CHART_HEIGHT + 5)


def _day(measured_at: str) -> dt.date:
    return dt.date.fromisoformat(measured_at[:10])


SECTIONS: list[Section] = [title, person, medications, appointments, vitals,
                           mood_and_sleep, records, journal, insights]
