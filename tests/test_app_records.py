"""Records in the app: add a record with files from the form or the file picker, find it
by words inside an attached PDF, view a text file, save a copy (checksum checked, never
over a file unasked), see a damaged file refused, delete a record with its files, and a
read-only key that can look but not change."""

from __future__ import annotations

import os

import pytest
from pdf_maker import text_pdf
from textual import events

from app_helpers import (
    SIZE,
    field_error,
    make_app,
    notifications,
    screen_text,
    settle,
    table_rows,
    type_text,
    unlock,
)
from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.services.attachments import Attachments
from luna_tui.services.records import Records
from luna_tui.services.settings import Settings
from luna_tui.services.vault_session import VaultSession

SECRET = "Ferritin-Quokka-93 low iron"


@pytest.fixture
def files(tmp_path_factory):
    """Files to attach, outside LUNA_HOME."""
    folder = tmp_path_factory.mktemp("to-attach")
    (folder / "results.txt").write_text(f"Lab report\n{SECRET}\nsee the doctor\n")
    (folder / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
    (folder / "letter.pdf").write_bytes(text_pdf("Haematology letter about a zeppelin"))
    return folder


@pytest.fixture
def record(session, files):
    """A lab record with a text file and an image attached, the vault closed again."""
    me = Settings(session).current_patient_id()
    made = Records(session).create(me, title="Blood test", record_type="lab",
                                   event_date="2026-11-20", tags="#iron",
                                   description="Fasting sample")
    for name in ("results.txt", "scan.png"):
        Attachments(session).add(made.id, files / name)
    session.close()
    return made.id


def stored(layout) -> list:
    root = layout.attachments_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def reopened_record(layout, record_id: str):
    with VaultSession.open(layout, PASSPHRASE) as reopened:
        return Records(reopened).get(record_id)


async def open_records(pilot, passphrase: str = PASSPHRASE) -> None:
    await unlock(pilot, passphrase)
    await pilot.press("6")
    await settle(pilot)


async def open_files(pilot) -> None:
    await open_records(pilot)
    await pilot.press("o")
    await settle(pilot)


async def test_add_a_record_with_files_dropped_on_the_form(layout, session, files):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        assert "No records yet. Press n to add one — a lab result, a visit note" in (
            screen_text(pilot))
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.focused.id == "title"
        await type_text(pilot, "Iron check")
        field = app.screen.query_one("#attach_paths")
        field.focus()
        field.value = f"{files}/resu"
        await settle(pilot)
        await pilot.press("tab")  # takes the suggestion from the disk
        assert field.value == f"{files}/results.txt"
        # What a terminal pastes when files are dropped on it: here one that is there
        # and one that is gone, as file:// URIs on lines of their own.
        field.post_message(events.Paste(f"file://{files}/scan.png\r\n"
                                        f"file://{files}/gone%20away.pdf\r\n"))
        await settle(pilot)
        assert field.value == (f"{files}/results.txt {files}/scan.png "
                               f"'{files}/gone away.pdf'")  # one line, quoted
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordsScreen"
        [row] = table_rows(pilot, "#records")
        assert row == ["Sun 22 Nov 2026", "Other", "Iron check", "", "2 files"]
        text = screen_text(pilot)
        assert "results.txt" in text and "text searchable" in text and "scan.png" in text
        said = notifications(pilot)
        assert "Record “Iron check” saved." in said
        assert any(n.startswith("gone away.pdf was not attached. There is no file at")
                   for n in said)
        record_id = next(iter(app.screen.records))
    saved = reopened_record(layout, record_id)
    assert sorted(a.file_name for a in saved.attachments) == ["results.txt", "scan.png"]
    assert len(stored(layout)) == 2
    assert not any(SECRET.encode() in p.read_bytes() for p in stored(layout))


async def test_a_blank_title_is_refused_under_its_field(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "title can't be blank" in field_error(pilot, "title")
        assert app.screen.__class__.__name__ == "RecordFormScreen"


async def test_a_pdf_from_the_picker_is_found_by_its_words(layout, record, files):
    record_id = record
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert "Up to 100 MB each" in screen_text(pilot)
        field = app.screen.query_one("#attach-path")
        field.value = f"{files}/le"
        await settle(pilot)
        assert [str(o.prompt) for o in app.screen.query_one("#attach-matches").options] == [
            "letter.pdf"]
        await pilot.press("down", "enter")  # the highlighted match
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordsScreen"
        assert "Attached letter.pdf (encrypted in the vault)." in notifications(pilot)
        assert table_rows(pilot, "#records")[0][4] == "3 files"
        await pilot.press("slash")
        await type_text(pilot, "zeppel")
        await pilot.press("enter")
        await settle(pilot)
        [row] = table_rows(pilot, "#records")
        assert row[2].startswith("Blood test · ")
        text = screen_text(pilot)
        assert "1 record matches “zeppel”" in text and "Found:" in text
        await pilot.press("slash")
        app.screen.query_one("#records-search").value = "#nothing"
        await pilot.press("enter")
        await settle(pilot)
        assert table_rows(pilot, "#records") == []
        await pilot.press("escape")
        await settle(pilot)
        assert len(table_rows(pilot, "#records")) == 1
    assert any(a.file_name == "letter.pdf" and a.has_text
               for a in reopened_record(layout, record_id).attachments)


async def test_a_missing_file_in_the_picker_is_said_and_nothing_attached(layout, record):
    record_id = record
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        await pilot.press("a")
        await settle(pilot)
        app.screen.query_one("#attach-path").value = "/nowhere/at all.pdf"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AttachFilesScreen"
        assert any("There is no file at /nowhere/at all.pdf." in n for n in notifications(pilot))
        assert "There is no file at" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert table_rows(pilot, "#records")[0][4] == "2 files"
    assert len(reopened_record(layout, record_id).attachments) == 2


async def test_viewing_a_text_file_shows_its_words_and_an_image_says_why_not(layout, record):
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        assert [r[0] for r in table_rows(pilot, "#files")] == ["results.txt", "scan.png"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AttachmentTextScreen"
        assert SECRET in screen_text(pilot)
        await pilot.press("escape", "down", "v")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordFilesScreen"
        assert ("This is an image/png file of 3.0 KB; Luna shows text and PDFs only. "
                "Press s to save a copy.") in notifications(pilot)


async def test_saving_a_copy_writes_the_same_bytes_and_never_replaces_unasked(
        layout, record, files, tmp_path):
    target = tmp_path / "copy.png"
    target.write_bytes(b"mine")
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        await pilot.press("down", "s")
        await settle(pilot)
        assert "NOT encrypted" in screen_text(pilot)
        app.screen.query_one("#target").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.question == f"Replace {target}?"  # wrapped on screen
        await pilot.press("n")
        await settle(pilot)
        assert target.read_bytes() == b"mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordFilesScreen"
        assert any("(checksum verified)" in n for n in notifications(pilot))
    assert target.read_bytes() == (files / "scan.png").read_bytes()
    assert oct(target.stat().st_mode & 0o777) == "0o600"


async def test_a_damaged_file_is_said_and_nothing_is_written(layout, record,
                                                             tmp_path_factory):
    for path in stored(layout):
        data = bytearray(path.read_bytes())
        data[-20] ^= 0x01
        path.write_bytes(bytes(data))
    out = tmp_path_factory.mktemp("out")
    target = out / "out.txt"
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot)
        await pilot.press("s")
        await settle(pilot)
        app.screen.query_one("#target").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert any("was changed or damaged on disk" in n for n in notifications(pilot))
        assert app.screen.__class__.__name__ == "RecordFilesScreen"
        app.clear_notifications()
        await pilot.press("v")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "RecordFilesScreen"
        assert any("was changed or damaged on disk" in n for n in notifications(pilot))
    assert list(out.iterdir()) == []  # no copy, no half-written temp file


async def test_deleting_a_record_removes_its_files(layout, record):
    assert len(stored(layout)) == 2
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert "Its 2 attached files go too" in screen_text(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert table_rows(pilot, "#records") == []
        assert "Record “Blood test” deleted, with 2 files." in notifications(pilot)
    assert stored(layout) == []


async def test_the_type_filter_cycles_and_a_tag_narrows_the_list(layout, session):
    me = Settings(session).current_patient_id()
    Records(session).create(me, title="Knee MRI", record_type="imaging", tags="knee")
    Records(session).create(me, title="Ferritin", record_type="lab", tags="iron")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        assert len(table_rows(pilot, "#records")) == 2
        await pilot.press("t")
        await settle(pilot)
        assert [r[2] for r in table_rows(pilot, "#records")] == ["Ferritin"]
        assert "type: Lab result" in screen_text(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert [r[2] for r in table_rows(pilot, "#records")] == ["Knee MRI"]
        await pilot.press("t")
        await settle(pilot)
        assert len(table_rows(pilot, "#records")) == 2
        await pilot.press("slash")
        await type_text(pilot, "#knee")  # a tag, from the search field
        await pilot.press("enter")
        await settle(pilot)
        assert [r[2] for r in table_rows(pilot, "#records")] == ["Knee MRI"]
        assert "(#knee)" in screen_text(pilot)


async def test_a_read_only_key_looks_but_cannot_add_attach_or_delete(layout, session, files):
    from luna_tui.services.key_admin import KeyAdmin

    me = Settings(session).current_patient_id()
    made = Records(session).create(me, title="Blood test")
    Attachments(session).add(made.id, files / "results.txt")
    KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot, OTHER_PASSPHRASE)
        records = app.screen
        for action in ("new", "edit", "attach", "delete"):
            assert records.check_action(action, ()) is None
        await pilot.press("n", "a", "x")
        await settle(pilot)
        assert app.screen is records
        await pilot.press("o")
        await settle(pilot)
        files_screen = app.screen
        assert files_screen.check_action("attach", ()) is None
        assert files_screen.check_action("remove", ()) is None
        await pilot.press("a", "x")
        await settle(pilot)
        assert app.screen is files_screen
        await pilot.press("v")
        await settle(pilot)
        assert SECRET in screen_text(pilot)  # reading is allowed
    assert len(stored(layout)) == 1


async def test_the_dashboard_footer_offers_records(layout, session):
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        from luna_tui.ui.widgets.footer import KeysFooter

        footer = app.screen.query_one(KeysFooter)
        shown = {(key.key_display, key.description)
                 for row in footer.rows()[:footer.region.height] for key in row}
        assert {("6", "Records"), ("?", "Keys")} <= shown


async def test_more_records_load_as_the_cursor_nears_the_end(layout, session):
    me = Settings(session).current_patient_id()
    for number in range(130):
        Records(session).create(me, title=f"Letter {number:03d}",
                                event_date=f"2026-{1 + number % 12:02d}-01")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        assert len(table_rows(pilot, "#records")) == 100
        assert "100 records · more as you scroll" in screen_text(pilot)
        await pilot.press("end")
        await settle(pilot)
        titles = [row[2] for row in table_rows(pilot, "#records")]
        assert len(titles) == 130 and len(set(titles)) == 130  # each once, none skipped
        assert "130 records" in screen_text(pilot)
        assert "more as you scroll" not in screen_text(pilot)
