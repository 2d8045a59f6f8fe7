"""The app reminds while it is unlocked — unless an agent's scheduler holds the vault's
one-scheduler lock (services/reminders.py, store/scheduler_lock.py): then the agent
reminds and the app stays silent, and takes over at its next tick once the agent ends.

A timer ticks every half minute (the first soon after unlocking); each tick is a short
worker, so nothing runs while the vault is locked. Notices go to the desktop first;
where that can't be (no D-Bus session, no notification daemon) the app shows them as
its own notification, through a message ("attributes down, messages up").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from luna_tui.errors import LunaError
from luna_tui.services.notifiers import DesktopNotifier, FallbackNotifier
from luna_tui.services.reminders import (
    TICK_SECONDS,
    Answer,
    Notice,
    ReminderScheduler,
    Reminding,
    scheduler_lock,
)
from luna_tui.ui.messages import ReminderAnswered, ReminderShown
from luna_tui.ui.vault_calls import ServiceFailed

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer
    from textual.worker import Worker

    from luna_tui.services.vault_session import VaultSession

FIRST_TICK_SECONDS = 2.0  # after unlocking: the dashboard first


class AppNotifier:
    """The app's own notification, as a message to the App."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def send(self, notice: Notice, on_action: Answer | None) -> bool:
        self.app.post_message(ReminderShown(notice.text))
        return True


class AppReminders:
    """Starts with the unlocked vault, stops when it locks."""

    def __init__(self, app: Any, *, desktop: bool = True, every: float = TICK_SECONDS) -> None:
        self.app, self.every = app, every
        self.reminding: Reminding | None = None
        self._timers: list[Timer] = []
        self._worker: Worker[None] | None = None
        # One D-Bus connection for the app's life, not one per unlock.
        self._desktop = DesktopNotifier() if desktop else None

    def start(self, session: VaultSession) -> None:
        self.stop()
        notifiers: list[Any] = [self._desktop] if self._desktop is not None else []
        self.reminding = Reminding(
            ReminderScheduler(session), FallbackNotifier(*notifiers, AppNotifier(self.app)),
            scheduler_lock(session, "app"), call=self._call,
            told=lambda sentence: self.app.post_message(ReminderAnswered(sentence)))
        self._timers = [self.app.set_timer(FIRST_TICK_SECONDS, self.tick),
                        self.app.set_interval(self.every, self.tick)]

    def tick(self) -> None:
        # A tick still running does this one's work: cancelling it half-way could lose
        # what it sent, and a test's tick would cancel the timer's (or the reverse).
        if self.reminding is None or (self._worker is not None and self._worker.is_running):
            return
        self._worker = self.app.run_worker(self.reminding.tick(), group="reminders",
                                           exit_on_error=False)

    def stop(self) -> None:
        for timer in self._timers:
            timer.stop()
        self._timers = []
        if self.reminding is not None:
            self.app.workers.cancel_group(self.app, "reminders")
            self.reminding.release()
            self.reminding = None
            self._worker = None

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return await self.app.vault.attempt(fn, *args)
        except ServiceFailed as failed:  # locked meanwhile
            raise LunaError(str(failed)) from None
