"""What screens and workers tell the App: Textual messages, posted and handled by
`on_…` methods ("attributes down, messages up"). post_message is safe from a worker
thread, so a thread reports with a message instead of calling into the App."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from luna_tui.services.key_rotation import RotationPlan
    from luna_tui.services.vault_session import VaultSession


@dataclass(frozen=True)
class Activity:
    """The backup operation under way, as BackupProgress carries it."""

    what: str  # "Backing up", "Verifying luna-….lunabak"
    done: float  # 0..1
    step: str  # what is happening now, from the service


class PatientChosen(Message):
    """Show this person's health from now on (and say so, naming them, if `name`)."""

    def __init__(self, patient_id: str, name: str | None = None) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.name = name


class PatientRenamed(Message):
    """A person's name changed (the top bar shows the current one's)."""

    def __init__(self, patient_id: str, name: str) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.name = name


class RestoreAsked(Message):
    """Put this backup in place of the open vault (the person has confirmed)."""

    def __init__(self, path: Path, secret: str) -> None:
        super().__init__()
        self.path = path
        self.secret = secret


class RotateAsked(Message):
    """Rotate the vault's keys (the person has confirmed the plan's revocations): the app
    locks, and the rotating screen does the work and opens the vault on the new key."""

    def __init__(self, plan: RotationPlan, current: str, new_passphrase: str) -> None:
        super().__init__()
        self.plan = plan
        self.current = current
        self.new_passphrase = new_passphrase


class StillBusy(Message):
    """Long work the person started is under way (encrypting, decrypting, copying): they
    are not idle, so auto-lock waits."""


class BackupProgress(Message):
    """The backup operation under way moved on (None: it ended)."""

    def __init__(self, activity: Activity | None) -> None:
        super().__init__()
        self.activity = activity


class WorkProgress(Message):
    """From a worker thread, to the screen that started the work: how far it is."""

    def __init__(self, what: str, done: float) -> None:
        super().__init__()
        self.what = what
        self.done = done


class VaultOpened(Message):
    """A gate screen opened the vault (a passphrase typed, a vault made, a backup
    restored): show it. `unlocked`: by a passphrase just typed, when a backup may be due;
    `done`: sentences to show once it shows; `if_unreadable`: what the unlock screen says
    if it opened but could not be read (the vault is locked again then)."""

    def __init__(self, session: VaultSession, *, unlocked: bool = False,
                 done: tuple[str, ...] = (), if_unreadable: str) -> None:
        super().__init__()
        self.session = session
        self.unlocked = unlocked
        self.done = done
        self.if_unreadable = if_unreadable


class UnlockAgain(Message):
    """Back to the unlock screen, saying why (a restore that stopped, a vault made but
    not opened): the vault is closed."""

    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence


class BackupNotice(Message):
    """From the automatic backup's thread: what to tell the person (`changed`: a backup
    was added, so the Backups screen, if shown, reloads). Said only while the vault it
    ran on is open: after a lock the unlock screen shows nothing."""

    def __init__(self, session: VaultSession, sentence: str, *,
                 severity: str = "information", changed: bool = False) -> None:
        super().__init__()
        self.session = session
        self.sentence = sentence
        self.severity = severity
        self.changed = changed


class PlaceShown(Message):
    """From a place (PlaceScreen): its first load is painted. What an opened vault's
    first screen need not wait for starts then (LunaApp.on_place_shown)."""


class PlacesWarmed(Message):
    """From the warming thread: every place's module is imported (ui/places.py)."""


class ReminderShown(Message):
    """A reminder to show in the app: no desktop notification could be sent."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ReminderAnswered(Message):
    """What a reminder's button did ("Logged 2 doses as taken.")."""

    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence


class SettingsChanged(Message):
    """The Settings place saved these settings (name: new value; secrets left out): the
    App follows what it holds (the auto-lock time)."""

    def __init__(self, values: dict[str, object]) -> None:
        super().__init__()
        self.values = values


class InsightsComputed(Message):
    """From the Insights place's worker to the place: the statistics for this patient and
    window are ready (`view`: services.read_models.insights.InsightsView)."""

    def __init__(self, patient_id: str, window: int, view: object) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.window = window
        self.view = view


class EntrySaved(Message):
    """The app saved a journal entry: the App asks whether it opens the safety plan (a
    phrase of the plan's list, a drop in mood; services/safety/triggers.py). An edit
    says what it changed: retitling an old entry is not a new hard moment."""

    def __init__(self, entry_id: str, *, words_changed: bool = True,
                 mood_changed: bool = True) -> None:
        super().__init__()
        self.entry_id = entry_id
        self.words_changed = words_changed
        self.mood_changed = mood_changed


class SyncNotice(Message):
    """What an automatic sync round did, worth saying ("2 changes arrived from your other
    devices"), or why it failed (ui/auto_sync.py)."""

    def __init__(self, session: object, sentence: str, *, severity: str = "information",
                 arrived: bool = False) -> None:
        super().__init__()
        self.session = session
        self.sentence = sentence
        self.severity = severity
        self.arrived = arrived  # other devices' changes were applied: refresh what shows
