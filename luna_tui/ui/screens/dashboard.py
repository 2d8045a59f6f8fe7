"""Today at a glance for the current patient: doses, next appointments, the mood of the
last 30 days, the latest vitals and the latest entries. Every panel says what to do
when it is empty; t logs today's doses from here. After the first paint, the streaks
(beside the date) and the entries of this day in earlier years (a panel of its own,
hidden when there are none; Enter opens one) are filled in."""

from __future__ import annotations

import asyncio
import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from luna_tui.services.journal import Entry
from luna_tui.services.read_models.dashboard import MOOD_DAYS, Dashboard, DashboardView
from luna_tui.services.read_models.habits import Habits, HabitsView, streak_line
from luna_tui.services.vitals import KINDS
from luna_tui.terminal_text import terminal_text
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

LATEST_VITALS = 4


def _age(measured_at: str, today: dt.date) -> str:
    """"today", "2 d ago", "3 wk ago": how fresh a reading is."""
    days = (today - dt.date.fromisoformat(measured_at[:10])).days
    if days <= 0:
        return "today"
    if days < 14:
        return f"{days} d ago"
    return f"{days // 7} wk ago"


HABITS_AFTER = 0.75  # seconds on the dashboard before its streaks and "on this day" are read


class DashboardScreen(PlaceScreen):
    BINDINGS = [
        Binding("n", "app.new_entry", "Write", id="dashboard.new_entry"),
        Binding("t", "app.log_doses", "Doses", id="dashboard.log_doses"),
        Binding("slash", "app.search_journal", "Find", id="dashboard.search"),
        Binding("r", "reload", "Refresh", id="dashboard.refresh", show=False),
        # The places, shown here only (see LunaApp.BINDINGS); Home is where we are.
        Binding("1", "app.go('dashboard')", "Home", id="go.dashboard", show=False),
        Binding("2", "app.go('journal')", "Journal", id="go.journal"),
        Binding("3", "app.go('medications')", "Meds", id="go.medications"),
        Binding("4", "app.go('appointments')", "Appts", id="go.appointments"),
        Binding("5", "app.go('vitals')", "Vitals", id="go.vitals"),
        Binding("6", "app.go('records')", "Records", id="go.records"),
        Binding("7", "app.go('companion')", "AI", id="go.companion"),
        Binding("8", "app.go('patients')", "People", id="go.patients"),
        Binding("9", "app.go('backups')", "Backups", id="go.backups"),
        Binding("0", "app.go('settings')", "Settings", id="go.settings"),
    ]

    # The first load's data, asked for as the screen is built: (patient, day) → its view.
    _asked: tuple[tuple[str, dt.date], asyncio.Task[DashboardView]] | None = None
    remembered: dict[str, Entry]  # the on-this-day entries shown, by id

    def compose(self) -> ComposeResult:
        # The DB thread reads the first load's data while the widgets below are mounted
        # and styled, which takes about as long, instead of after them.
        self._asked = self._ask_today()
        self.remembered = {}
        yield TopBar("Dashboard")
        with Horizontal(id="dashboard-heading"):
            yield Label("", id="today", classes="heading")
            yield Label("", id="streaks", classes="muted")
        with Horizontal(id="dashboard-top"):
            with Vertical(id="doses", classes="panel"):
                yield Static(id="doses-body")
            with Vertical(id="appointments", classes="panel"):
                yield Static(id="appointments-body")
        with Horizontal(id="dashboard-middle"):
            with Vertical(id="mood", classes="panel"):
                yield Sparkline([], id="mood-line")
                yield Static(id="mood-body")
            with Vertical(id="latest-vitals", classes="panel"):
                yield Static(id="latest-vitals-body")
        with Vertical(id="latest", classes="panel"):
            yield Static(id="latest-body")
        with Vertical(id="on-this-day", classes="panel"):
            # Disabled (not focusable) while hidden: Enter opens the highlighted entry.
            yield OptionList(id="on-this-day-list", compact=True, disabled=True)
        # Every place's number fits in 100 columns only without the "^p palette" hint;
        # ctrl+p still opens the palette, and ? (Keys) says so.
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#doses").border_title = "Today's doses"
        self.query_one("#appointments").border_title = "Next appointments"
        self.query_one("#mood").border_title = f"Mood, last {MOOD_DAYS} days"
        self.query_one("#latest-vitals").border_title = "Latest vitals"
        self.query_one("#latest").border_title = "Latest entries"
        self.query_one("#on-this-day").border_title = "On this day"

    async def action_reload(self) -> None:
        await self.refresh_data()

    def _today(self) -> dt.date:
        return self.vault.clock.now().astimezone().date()

    def _ask_today(self) -> tuple[tuple[str, dt.date], asyncio.Task[DashboardView]] | None:
        patient = self.vault.patient_id
        if patient is None:
            return None
        today = self._today()
        return (patient, today), self.vault.begin(Dashboard(self.session).today, patient,
                                                  today)

    async def refresh_data(self) -> None:
        patient = self.vault.patient_id
        if patient is None:
            return
        today = self._today()
        self.query_one("#today", Label).update(today.strftime("%A %-d %B %Y"))
        asked, self._asked = self._asked, None
        try:
            if asked is not None and asked[0] == (patient, today):
                view = await asked[1]
            else:
                view = await self.vault.call(Dashboard(self.session).today, patient, today)
        except ServiceFailed:
            return
        self._show_vitals(view.vitals, today)
        self._show_doses(view.doses)
        self._show_appointments(view.appointments)
        self._show_mood(view.moods)
        self._show_latest(view.entries)
        # The habits cost the first paint nothing: they are read once the person has
        # stayed on it a moment (HABITS_AFTER). Ten years of streaks take ~50 ms of the
        # one database thread, which a place opened right after the unlock would wait for.
        if HABITS_AFTER > 0:
            self.set_timer(HABITS_AFTER, lambda: self._ask_habits(patient, today))
        else:  # no moment to wait (tests): right after the paint
            self.call_after_refresh(self._ask_habits, patient, today)

    def _ask_habits(self, patient: str, today: dt.date) -> None:
        if not self.is_current:
            return  # left already: read when the dashboard shows again
        self.run_worker(self._load_habits(patient, today), group="habits", exclusive=True)

    async def _load_habits(self, patient: str, today: dt.date) -> None:
        try:
            habits = await self.vault.call(Habits(self.session).today, patient, today)
        except ServiceFailed:
            return
        if self.vault.patient_id == patient:  # not switched meanwhile
            self._show_habits(habits)

    def _show_habits(self, habits: HabitsView) -> None:
        self.query_one("#streaks", Label).update(streak_line(habits.streaks))
        self.remembered = {entry.id: entry for entry in habits.on_this_day}
        options = self.query_one("#on-this-day-list", OptionList)
        options.clear_options()
        for entry in habits.on_this_day:
            line = Text(dt.date.fromisoformat(entry.entry_date).strftime("%Y  "), style="dim")
            line.append("★ " if entry.favorite else "  ", style="yellow")
            line.append(" ".join(terminal_text(entry.display_title).split()))
            options.add_option(Option(line, id=entry.id))
        panel = self.query_one("#on-this-day")
        panel.display = bool(habits.on_this_day)
        count = len(habits.on_this_day)
        panel.border_title = "On this day" + (f" · {count} entries" if count > 1 else "")
        options.disabled = not habits.on_this_day
        if habits.on_this_day:
            options.highlighted = 0  # Enter opens the newest year's at once
        if habits.on_this_day and self.focused is None:
            options.focus()

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from luna_tui.ui.screens.entry_reader import EntryReaderScreen

        entry = self.remembered.get(event.option.id or "")
        if entry is not None:
            await self.push_own(EntryReaderScreen(entry), self._after_reading)

    async def _after_reading(self, changed: bool | None) -> None:
        if changed:
            await self.refresh_data()

    def _show_doses(self, slots: list) -> None:
        body = Text()
        if not slots:
            body.append("No medications scheduled today: 3 opens medications.", style="dim")
        for slot in slots:
            taken = slot.dose is not None and slot.dose.status in ("taken", "late")
            mark = {"taken": "✔", "late": "✔", "missed": "✘", "skipped": "–"}.get(
                slot.dose.status if slot.dose else "", "○")
            style = "green" if taken else ("red" if mark == "✘" else "")
            body.append(f"{mark} ", style=style)
            body.append(plain(f"{slot.medication.name} {slot.medication.dosage}".ljust(28)))
            body.append(f"{slot.scheduled_at[-5:]}\n", style="dim")
        self.query_one("#doses-body", Static).update(body)

    def _show_appointments(self, appointments: list) -> None:
        body = Text()
        if not appointments:
            body.append("No upcoming appointments: 4 opens appointments.", style="dim")
        for appointment in appointments:
            day = dt.date.fromisoformat(appointment.appointment_date)
            when = day.strftime("%a %d %b") + (
                f" {appointment.appointment_time}" if appointment.appointment_time else "")
            body.append(f"{when:<17}", style="bold")
            body.append(plain(appointment.provider_name or appointment.reason or "") + "\n")
        self.query_one("#appointments-body", Static).update(body)

    def _show_mood(self, moods: list[tuple[str, float]]) -> None:
        line = self.query_one("#mood-line", Sparkline)
        body = self.query_one("#mood-body", Static)
        if not moods:
            line.data = []
            line.display = False
            body.update(Text("No mood recorded yet: give an entry a 1–10 scale (n).",
                             style="dim"))
            return
        line.display = True
        line.data = [value for _, value in moods]
        average = sum(line.data) / len(line.data)
        body.update(Text(f"average {average:.1f} / 10 over {len(moods)} days with a mood",
                         style="dim"))

    def _show_vitals(self, latest: dict, today: dt.date) -> None:
        body = Text()
        if not latest:
            body.append("No readings yet: 5 opens vitals.", style="dim")
        newest_first = sorted(latest.values(), key=lambda v: v.measured_at, reverse=True)
        for reading in newest_first[:LATEST_VITALS]:
            known = KINDS.get(reading.kind)
            label = known.label if known else reading.kind.replace("_", " ").capitalize()
            body.append(plain(f"{label[:14]:<15}"))
            body.append(plain(f"{reading.display_value:<14}", "bold"))
            body.append(_age(reading.measured_at, today) + "\n", style="dim")
        self.query_one("#latest-vitals-body", Static).update(body)

    def _show_latest(self, entries: list) -> None:
        body = Text()
        if not entries:
            body.append("Your journal is empty. Press n to write the first entry.", style="dim")
        for entry in entries:
            when = dt.date.fromisoformat(entry.entry_date).strftime("%d %b")
            body.append(f"{when} {entry.entry_time or '     '} ", style="dim")
            # The star in a column of its own, before the title: at the end of the line,
            # after tags of any length, it went onto a line of its own at 80 columns.
            body.append("★ " if entry.favorite else "  ", style="yellow")
            title = " ".join(terminal_text(entry.display_title).split())
            body.append(f"{title if len(title) <= 38 else title[:37] + '…':<40}")
            if entry.mood_scale:
                body.append(f"{entry.mood_scale}/10  ")
            body.append(plain(" ".join(f"#{t}" for t in entry.tags[:3]), "cyan"))
            body.append("\n")
        self.query_one("#latest-body", Static).update(body)
