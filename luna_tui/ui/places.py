"""The registry of places: the screens the number keys, `i` and the plan key reach, by name.

Each place's screen is imported on the place's first visit, not when the app starts nor
when the vault unlocks: the unlock screen paints without any of them, and the dashboard
appears right after the key derivation without waiting for the journal's, the
companion's or the records' modules. All twelve are imported this way (dashboard,
journal, medications, appointments, vitals, records, companion, patients, backups,
settings, insights, the safety plan). They are imported ahead in a background thread
(`warm`: the dashboard and the journal while the passphrase is typed, the others once
the dashboard shows), so a first visit seldom waits for an import either.

Nothing here imports a screen at the top: the screens' modules are named, and this is
the only module that names them.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget

# name: (module, screen class), in the order of the number keys 1–9, then 0; then the
# places opened by a letter (insights), then the safety plan.
PLACES: dict[str, tuple[str, str]] = {
    "dashboard": ("luna_tui.ui.screens.dashboard", "DashboardScreen"),
    "journal": ("luna_tui.ui.screens.journal", "JournalScreen"),
    "medications": ("luna_tui.ui.screens.medications", "MedicationsScreen"),
    "appointments": ("luna_tui.ui.screens.appointments", "AppointmentsScreen"),
    "vitals": ("luna_tui.ui.screens.vitals", "VitalsScreen"),
    "records": ("luna_tui.ui.screens.records", "RecordsScreen"),
    "companion": ("luna_tui.ui.screens.companion", "CompanionScreen"),
    "patients": ("luna_tui.ui.screens.patients", "PatientsScreen"),
    "backups": ("luna_tui.ui.screens.backups", "BackupsScreen"),
    "settings": ("luna_tui.ui.screens.settings.screen", "SettingsScreen"),
    # No number key: `i` opens it (ui/app.py).
    "insights": ("luna_tui.ui.screens.insights", "InsightsScreen"),
    # No number key: the plan key (f1) shows it over any screen (LunaApp.open_plan).
    "plan": ("luna_tui.ui.screens.plan", "PlanScreen"),
}

# What is imported in a background thread before it is needed, in two rounds. First,
# from the unlock screen's first paint while the passphrase is typed: what opening the
# vault needs, the dashboard, the journal (the place most visits go to next) and what
# follows an unlock (the automatic backup, a draft left by a lock). Then, once the
# dashboard is shown, the other places: imported during the key derivation or the
# dashboard's first paint, they held the lock Python's threads share and slowed both.
WARM_FIRST = (
    "argon2.low_level",
    "cryptography.hazmat.primitives.ciphers.aead",
    "cryptography.hazmat.primitives.kdf.hkdf",
    "luna_tui.services.vault_session",
    "luna_tui.services.patients",
    "luna_tui.services.settings",
    PLACES["dashboard"][0],
    "luna_tui.services.backups.chores",
    "luna_tui.services.drafts",
    "luna_tui.ui.drafts",
    "luna_tui.ui.screens.dialogs",
    PLACES["journal"][0],
    "luna_tui.services.journal",
    # What a table's column labels are read with (Rich's markup) looks its emoji names up
    # in a table of thousands, imported on first use: the journal's first visit.
    "rich._emoji_codes",
)
WARM_LATER = tuple(module for name, (module, _) in PLACES.items()
                   if name not in ("dashboard", "journal"))


def first_visit_widgets() -> list[Widget]:
    """One of each kind of widget the places' first visits mount and the unlock screen
    does not: their default styles are read ahead (LunaApp._read_place_styles), or else a
    place's first visit parses them (DataTable's alone: 3-4 ms of the journal's)."""
    from textual.containers import Horizontal, VerticalScroll
    from textual.widgets import OptionList, Sparkline

    from luna_tui.ui.widgets.list_table import ListTable

    return [Horizontal(), VerticalScroll(), OptionList(), Sparkline([]),
            ListTable(id="styles-ahead")]


def make_place(name: str) -> Screen:
    """A new screen for the place `name`, importing its module on the first call."""
    module, screen_class = PLACES[name]
    return getattr(importlib.import_module(module), screen_class)()


def warm(modules: tuple[str, ...], then: Callable[[], object] | None = None) -> None:
    """Import `modules` in a background thread (a module imported already is a
    dictionary look-up), then call `then` there."""
    threading.Thread(target=_import_all, args=(modules, then), name="luna-warm",
                     daemon=True).start()


def _import_all(modules: tuple[str, ...], then: Callable[[], object] | None) -> None:
    for name in modules:
        importlib.import_module(name)
    if then is not None:
        then()
