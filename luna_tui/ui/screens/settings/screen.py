"""Settings (key 0): what the shell does to the vault, from the app, a tab each:
export and import, the hand-off for a doctor, the passphrase, the keys, the settings,
sync between devices and the doctor's checks.
ctrl+s (or F2) sends the form of the tab shown (on Export & import, the form the focus
is in); the command palette opens each tab by name ("export", "import", "hand-off",
"passphrase", "keys", "settings", "sync", "doctor")."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import TabbedContent, TabPane

from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.screens.settings.doctor import DoctorPart
from luna_tui.ui.screens.settings.handoff import HandoffPart
from luna_tui.ui.screens.settings.keys import KeysPart
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.screens.settings.passphrase import PassphrasePart
from luna_tui.ui.screens.settings.sync import SyncPart
from luna_tui.ui.screens.settings.transfer import TransferPart
from luna_tui.ui.screens.settings.values import ValuesPart
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

# The tabs: (id, title, the part in it). The palette and `show_part` name them by id.
PARTS = (
    ("transfer", "Export & import", TransferPart),
    ("handoff", "Hand-off", HandoffPart),
    ("passphrase", "Passphrase", PassphrasePart),
    ("keys", "Keys", KeysPart),
    ("values", "Settings", ValuesPart),
    ("sync", "Sync", SyncPart),
    ("doctor", "Doctor", DoctorPart),
)
# Where each part's first field is, to focus when the palette opens it.
FIRST_FIELD = {"transfer": "#export-format", "passphrase": "#current-passphrase",
               "handoff": "#handoff-patient", "keys": "#keys-table", "values": "Input",
               "doctor": "#run-doctor", "sync": "#sync-folder",
               "import": "#import-path"}


class SettingsScreen(PlaceScreen):
    _wanted = "transfer"  # the part whose first field takes the focus once it shows
    CSS_PATH = "settings.tcss"
    BINDINGS = [
        Binding("ctrl+s,f2", "submit", "Save / run", id="settings.submit", priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar("Settings")
        with TabbedContent(id="settings-parts"):
            for part_id, title, part in PARTS:
                with TabPane(title, id=f"tab-{part_id}"):
                    yield part()
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        # The first field of the first tab, as other places focus their list: typing
        # goes into a field, not to the tabs (left and right still switch them).
        self.call_after_refresh(self._focus_first)

    async def refresh_data(self) -> None:
        for part in self.query(SettingsPart):
            await part.refresh_data()

    def active_part(self) -> SettingsPart:
        tabs = self.query_one("#settings-parts", TabbedContent)
        return self.query_one(f"#{tabs.active} SettingsPart", SettingsPart)

    async def action_submit(self) -> None:
        await self.active_part().submit()

    def show_part(self, part: str) -> None:
        """Show the tab `part` (or the import form, "import") with its first field
        focused."""
        tab = "transfer" if part == "import" else part
        self.query_one("#settings-parts", TabbedContent).active = f"tab-{tab}"
        self._wanted = part
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        """Focus the first field of the part asked for last (the place's first paint
        and the palette's choice may each ask; the latest wins, whichever runs last)."""
        part = self._wanted
        tab = "transfer" if part == "import" else part
        pane = self.query_one(f"#tab-{tab}", TabPane)
        found = pane.query(FIRST_FIELD[part])
        if found:
            found.first().focus()
