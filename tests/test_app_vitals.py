"""Vitals in the app: add readings through the form (errors under the field that caused
them), see them in the list and the chart, change the period, and read a medication
change against mood and sleep from the journal.

Days are counted back from `clock.today()`; the test marked `dates` runs at each "today"
of the date matrix (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Label, Select

from app_helpers import (
    SIZE,
    make_app,
    notifications,
    screen_text,
    settle,
    table_rows,
    type_text,
    unlock,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.key_admin import KeyAdmin
from luna_tui.services.medications import Medications
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession
from luna_tui.services.vitals import Vitals


@pytest.fixture
def days_ago(clock):
    def days_ago(days: int) -> str:
        return (clock.today() - dt.timedelta(days=days)).isoformat()

    return days_ago


async def open_vitals(pilot, passphrase: str = PASSPHRASE) -> None:
    await unlock(pilot, passphrase)
    await pilot.press("5")
    await settle(pilot)


def chart(pilot):
    return pilot.app.screen.chart


def error_under(pilot, input_id: str) -> str:
    return str(pilot.app.screen.query_one(f"#error-{input_id}", Label).content)


def shown(pilot, input_id: str) -> bool:
    """Whether the field around an input is on show (the form hides whole fields)."""
    return pilot.app.screen.query_one(f"#{input_id}").parent.display


def stored_readings(layout, clock, kind: str) -> list[str]:
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as reopened:
        me = Settings(reopened).current_patient_id()
        return [v.display_value for v in Vitals(reopened).series(me, kind)]


async def test_a_weight_added_in_the_form_shows_in_list_chart_and_vault(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        assert app.screen.__class__.__name__ == "VitalsScreen"
        text = screen_text(pilot)
        assert "No weight readings in the last 30 days — press n to add one" in text
        assert chart(pilot).counts["value"] == 0
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "VitalFormScreen"
        assert app.screen.query_one("#unit").value == "kg"
        now = clock.now().astimezone()  # the form offers now, local time
        assert app.screen.query_one("#measured_at").value == f"{now:%Y-%m-%d %H:%M}"
        await type_text(pilot, "72.5")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "VitalsScreen"
        assert [r[1] for r in table_rows(pilot, "#readings")] == ["72.5 kg"]
        assert table_rows(pilot, "#kinds")[0] == ["Weight", "72.5 kg"]
        assert chart(pilot).counts["value"] == 1
        assert "Weight (kg) · last 30 days" in screen_text(pilot)
    assert stored_readings(layout, clock, "weight") == ["72.5 kg"]


async def test_an_impossible_pulse_is_refused_under_the_value(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        await pilot.press("down", "down")  # weight, blood pressure, heart rate
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#kind", Select).value == "heart_rate"
        await type_text(pilot, "0")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "heart rate of 0 bpm is not possible" in error_under(pilot, "value")
        assert "heart rate of 0 bpm is not possible" in screen_text(pilot)
        assert app.screen.__class__.__name__ == "VitalFormScreen"
    assert stored_readings(layout, clock, "heart_rate") == []


async def test_blood_pressure_takes_two_values_each_checked_in_its_field(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert shown(pilot, "value2")
        await type_text(pilot, "300")
        await pilot.press("tab")
        await type_text(pilot, "20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "blood pressure of 300 mmHg is not possible" in error_under(pilot, "value")
        form.query_one("#value").value = "120"
        form.query_one("#value2").value = "130"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_under(pilot, "value") == ""
        assert "must be higher" in error_under(pilot, "value2")
        form.query_one("#value2").value = "80"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [r[1] for r in table_rows(pilot, "#readings")] == ["120/80 mmHg"]
        assert chart(pilot).counts["value"] == chart(pilot).counts["value2"] == 1
        assert "left ━ systolic  ━ diastolic" in screen_text(pilot)
    assert stored_readings(layout, clock, "blood_pressure") == ["120/80 mmHg"]


async def test_a_kind_of_ones_own_gets_a_name_and_a_unit(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert not shown(pilot, "kind_name") and not shown(pilot, "value2")
        form.query_one("#kind", Select).value = "__other__"
        await pilot.pause()
        assert shown(pilot, "kind_name")
        assert form.query_one("#unit").value == ""
        form.query_one("#kind_name").value = "peak flow"
        form.query_one("#value").value = "420"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Give the unit of 'peak flow' readings" in error_under(pilot, "unit")
        form.query_one("#unit").value = "L/min"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert ["Peak flow", "420 L/min"] in table_rows(pilot, "#kinds")
        assert "Peak flow (L/min)" in screen_text(pilot)


async def test_escape_asks_before_discarding_a_typed_reading(layout, session, clock):
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "70")
        await pilot.press("escape")
        await settle(pilot)
        assert "Leave without saving?" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "VitalsScreen"
    assert stored_readings(layout, clock, "weight") == []


@pytest.mark.dates
async def test_r_cycles_the_period_of_the_chart(layout, session, clock, days_ago):
    me = Settings(session).current_patient_id()
    for days in (10, 60, 200, 500):
        Vitals(session).record(me, "weight", 70 + days / 100,
                               measured_at=f"{days_ago(days)}T08:00")
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        seen = []
        for _ in range(5):
            seen.append((chart(pilot).data.period, chart(pilot).counts["value"]))
            await pilot.press("r")
            await settle(pilot)
        assert seen == [("30d", 1), ("90d", 2), ("1y", 3), ("all", 4), ("30d", 1)]
        assert "Weight (kg) · last 90 days" in screen_text(pilot)
        assert len(table_rows(pilot, "#readings")) == 4  # the list is not cut by period


async def test_mood_and_sleep_from_the_journal_and_a_dose_change_are_on_the_chart(
        layout, session, clock, days_ago):
    me = Settings(session).current_patient_id()
    journal = Journal(session)
    for days in range(12):
        journal.create(me, EntryDraft(content="Today", entry_date=days_ago(days),
                                      mood_scale=4 + days % 4,
                                      sleep_hours=7 if days % 2 else None))
    meds = Medications(session)
    metformin = meds.create(me, "Metformin", "500 mg", "twice daily",
                            start_date=days_ago(200))
    meds.update(metformin.id, dosage="1000 mg", effective=days_ago(6))
    Vitals(session).record(me, "weight", 80, measured_at=f"{days_ago(3)}T08:00")
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        counts = chart(pilot).counts
        assert (counts["value"], counts["mood"], counts["sleep"], counts["events"]) == (
            1, 12, 6, 1)
        text = screen_text(pilot)
        assert "Metformin 500 → 1000 mg" in text  # the change in words
        assert "Metformin 1000 mg" in text  # its label on the chart
        assert "right ━ mood 1–10  ━ sleep h" in text
        await pilot.press("m")
        await pilot.pause()
        assert (chart(pilot).counts["mood"], chart(pilot).counts["sleep"]) == (0, 0)
        assert "mood 1–10" not in screen_text(pilot)
        await pilot.press("r", "r")  # a year: the start comes in too
        await settle(pilot)
        assert chart(pilot).counts["events"] == 2


async def test_x_deletes_the_highlighted_reading_after_asking(layout, session, clock, days_ago):
    me = Settings(session).current_patient_id()
    Vitals(session).record(me, "weight", 71, measured_at=f"{days_ago(2)}T08:00")
    Vitals(session).record(me, "weight", 72, measured_at=f"{days_ago(1)}T08:00")
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot)
        await pilot.press("tab", "x")  # to the readings; the newest is highlighted
        await settle(pilot)
        newest = dt.date.fromisoformat(days_ago(1))
        assert f"Delete the weight reading of {newest:%d %b %Y} 08:00?" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert [r[1] for r in table_rows(pilot, "#readings")] == ["71 kg"]
        assert chart(pilot).counts["value"] == 1
    assert stored_readings(layout, clock, "weight") == ["71 kg"]


async def test_a_read_only_key_sees_the_chart_but_cannot_add(layout, session, clock, days_ago):
    me = Settings(session).current_patient_id()
    Vitals(session).record(me, "weight", 71, measured_at=f"{days_ago(2)}T08:00")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_vitals(pilot, OTHER_PASSPHRASE)
        vitals = app.screen
        assert chart(pilot).counts["value"] == 1
        assert vitals.check_action("new", ()) is None  # greyed out in the footer
        assert vitals.check_action("delete", ()) is None
        await pilot.press("n", "x")
        await settle(pilot)
        assert app.screen is vitals
        await pilot.press("down")  # blood pressure: none, and no "press n" offered
        await settle(pilot)
        text = screen_text(pilot)
        assert "No blood pressure readings in the last 30 days" in text
        assert "press n" not in text
        assert not notifications(pilot) or all("saved" not in n for n in notifications(pilot))
