"""Driving the Textual app in tests: make it, unlock it, wait for it to settle."""

from __future__ import annotations

import html
import re

from textual.pilot import Pilot

from conftest import PASSPHRASE, FakeClock, cheap_kdf
from luna_tui.home import VaultLayout
from luna_tui.ui.app import LunaApp

SIZE = (100, 36)


def make_app(layout: VaultLayout, clock: FakeClock | None = None, *,
             automatic_backups: bool = False, reminders: bool = False) -> LunaApp:
    """The app with a fake clock; tests call lock_if_idle themselves. No automatic backup
    after unlocking unless a test asks (tests/test_app_backups.py does), no reminders
    unless a test asks (tests/test_app_reminders.py), and those never on the desktop."""
    return LunaApp(layout, clock=clock or FakeClock(), new_vault_kdf=cheap_kdf(),
                   idle_check_seconds=3600, automatic_backups=automatic_backups,
                   reminders=reminders, desktop_notifications=False)


async def settle(pilot: Pilot) -> None:
    """Let workers finish and the screen catch up."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def settle_until(pilot: Pilot, condition, rounds: int = 40) -> None:  # noqa: ANN001
    """Settle until `condition()` holds: some changes hop between a task, the DB thread
    and the screen, which a fixed number of pauses may not cover on a loaded machine."""
    for _ in range(rounds):
        await settle(pilot)
        if condition():
            return
    raise AssertionError("the app did not get there")


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*[_key(ch) for ch in text])


def _key(character: str) -> str:
    names = {" ": "space", "#": "number_sign", "/": "slash", ".": "full_stop", ",": "comma",
             "-": "minus", ":": "colon", "'": "apostrophe", "!": "exclamation_mark",
             "?": "question_mark", "\n": "enter"}
    return names.get(character, character)


async def unlock(pilot: Pilot, passphrase: str = PASSPHRASE) -> None:
    """Unlock as a person would, but with the passphrase put in the field at once:
    typing it key by key costs a second a test (tests/test_app_vault.py types it)."""
    from textual.widgets import Input

    await pilot.pause()
    pilot.app.screen.query_one("#passphrase", Input).value = passphrase
    await pilot.press("enter")
    await settle(pilot)


_SPAN = re.compile(r'<text class="[^"]*-r\d+" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
                   r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>')


def screen_text(pilot: Pilot) -> str:
    """Everything the screen shows, as plain text lines (from Textual's own screenshot)."""
    lines: dict[int, dict[int, str]] = {}
    for x, length, line, raw in _SPAN.findall(pilot.app.export_screenshot()):
        text = html.unescape(raw).replace("\xa0", " ")
        if not text:
            continue
        cell = float(length) / len(text)
        column = round(float(x) / cell)
        row = lines.setdefault(int(line), {})
        for offset, character in enumerate(text):
            row[column + offset] = character
    rendered = []
    for number in sorted(lines):
        row = lines[number]
        rendered.append("".join(row.get(i, " ") for i in range(max(row) + 1)).rstrip())
    return "\n".join(rendered)


def notifications(pilot: Pilot) -> list[str]:
    return [n.message for n in pilot.app._notifications]  # noqa: SLF001


def table_rows(pilot: Pilot, selector: str) -> list[list[str]]:
    from textual.widgets import DataTable

    table = pilot.app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def widget_text(pilot: Pilot, selector: str) -> str:
    """The whole text of one Label or Static of the screen on top (on screen it may wrap)."""
    from textual.widgets import Static

    return str(pilot.app.screen.query_one(selector, Static).content)


def field_error(pilot: Pilot, field_id: str) -> str:
    """The error shown under a form field (wrapped on screen, whole here)."""
    from textual.widgets import Label

    return str(pilot.app.screen.query_one(f"#error-{field_id}", Label).content)
