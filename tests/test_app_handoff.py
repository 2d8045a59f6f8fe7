"""The Hand-off tab of the Settings place: the palette finds it, the preview under the
form counts what will be written and follows the choices, Write puts the files on the
disk, and an archive's passphrase is shown once in a dialog. What the person sees is
read from widgets; what happened, from the files."""

from __future__ import annotations

import stat

import pypdf
from handoff_data import fill
from textual.widgets import Checkbox, Input, OptionList, SelectionList

from app_helpers import SIZE, make_app, settle, settle_until, type_text, unlock, widget_text
from luna_tui.services.handoff.archive import read_encrypted_zip
from luna_tui.services.handoff.pdf_sections import INSIGHTS_TITLE


async def open_handoff(pilot) -> None:
    await unlock(pilot)
    await pilot.press("ctrl+p")
    await settle(pilot)
    await type_text(pilot, "hand-off")
    options = pilot.app.screen.query_one("CommandList", OptionList)
    await settle_until(pilot, lambda: options.option_count > 0)
    prompts = [str(options.get_option_at_index(i).prompt).split("\n")[0]
               for i in range(options.option_count)]
    options.highlighted = prompts.index("Hand-off")
    await pilot.press("enter")
    await settle_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "SettingsScreen")
    await settle_until(pilot, lambda: part(pilot).preview is not None)


def part(pilot):
    return pilot.app.screen.query_one("#handoff")


def count_shown(pilot, kind: str) -> str:
    return " ".join(widget_text(pilot, f"#handoff-count-{kind}").split())


async def test_the_preview_counts_what_will_go_and_follows_the_choices(layout, session,
                                                                       clock, tmp_path):
    filled = fill(session, clock.today(), tmp_path)
    session.close()
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_handoff(pilot)
        assert app.focused is not None and app.focused.id == "handoff-patient"
        assert count_shown(pilot, "meds") == "Medications: 1"
        assert count_shown(pilot, "vitals") == "Vital readings: 8"
        assert count_shown(pilot, "mood") == "Days with a mood: 1"  # the private day is not
        assert count_shown(pilot, "records") == "" and count_shown(pilot, "journal") == ""
        assert count_shown(pilot, "insights") == "Medication changes on the insights page: 1"
        assert "NOT encrypted" in widget_text(pilot, "#handoff-warning")

        # Without the medications the insights page has nothing to weigh: its box greys.
        insights = app.screen.query_one("#handoff-kind-insights", Checkbox)
        app.screen.query_one("#handoff-kind-meds", Checkbox).value = False
        await settle_until(pilot, lambda: count_shown(pilot, "meds") == "")
        assert insights.disabled and insights.value and count_shown(pilot, "insights") == ""
        app.screen.query_one("#handoff-kind-meds", Checkbox).value = True
        await settle_until(pilot, lambda: count_shown(pilot, "insights") != "")
        assert not insights.disabled

        app.screen.query_one("#handoff-kind-vitals", Checkbox).value = False
        app.screen.query_one("#handoff-records", SelectionList).select(filled.chosen_record)
        await settle_until(pilot, lambda: count_shown(pilot, "records") == "Records: 1")
        assert count_shown(pilot, "vitals") == ""
        assert "HbA1c result" in widget_text(pilot, "#handoff-preview-records")
        assert "Knee MRI" not in widget_text(pilot, "#handoff-preview-records")

        app.screen.query_one("#handoff-from", Input).value = "3 days ago"
        await settle_until(pilot, lambda: count_shown(pilot, "mood") == "Days with a mood: 0")
        app.screen.query_one("#handoff-from", Input).value = "not a day"
        await settle_until(pilot, lambda: part(pilot).preview is None)
        assert "not a date" in widget_text(pilot, "#error-handoff-from")


async def test_write_puts_the_packet_on_the_disk_readable_by_its_owner_only(
        layout, session, clock, tmp_path):
    fill(session, clock.today(), tmp_path)
    session.close()
    folder = tmp_path / "for-dr-rivera"
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_handoff(pilot)
        app.screen.query_one("#handoff-folder", Input).value = str(folder)
        await pilot.press("f2")
        await settle_until(pilot, lambda: folder.exists() and len(list(folder.iterdir())) == 3)
    names = sorted(p.suffix for p in folder.iterdir())
    assert names == [".ics", ".json", ".pdf"]
    [pdf] = folder.glob("*.pdf")
    last_page = " ".join(pypdf.PdfReader(pdf).pages[-1].extract_text().split())
    assert INSIGHTS_TITLE in last_page  # weighed in the writing worker
    assert "Heart rate around Metformin dose changed on " in last_page
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


async def test_an_archive_shows_its_passphrase_once_and_is_the_only_file(
        layout, session, clock, tmp_path):
    fill(session, clock.today(), tmp_path)
    session.close()
    folder = tmp_path / "sealed"
    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_handoff(pilot)
        app.screen.query_one("#handoff-archive", Checkbox).value = True
        await settle_until(pilot, lambda: "7-Zip" in widget_text(pilot, "#handoff-warning"))
        assert "NOT in Windows Explorer" in widget_text(pilot, "#handoff-warning")
        app.screen.query_one("#handoff-folder", Input).value = str(folder)
        await pilot.press("f2")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "ShownOnce")
        passphrase = widget_text(pilot, "#recovery-key")
        [archive] = list(folder.iterdir())
        assert archive.suffix == ".zip"
        assert len(read_encrypted_zip(archive.read_bytes(), passphrase)) == 3
        app.screen.query_one("#written", Checkbox).value = True
        await settle(pilot)
        await pilot.click("#close")
        await settle_until(pilot, lambda: app.screen.__class__.__name__ == "SettingsScreen")
