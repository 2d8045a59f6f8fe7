"""Settings, kept in the encrypted `config` table (never in a plain file).

Only the settings named here exist; each has a default and a check, so a typo or a bad
value is a sentence, not a silent no-op. Secret settings (an AI API key) are written
to the audit log as "changed", never by value, and left out of exports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from luna_tui.errors import ValidationError
from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.store.models.patients import Patient, owner_first
from luna_tui.store.models.vault_state import Config


@dataclass(frozen=True)
class Setting:
    default: Any
    check: Callable[[Any], Any]
    secret: bool = False
    description: str = ""


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"choose one of: {', '.join(choices)}")
        return text

    return check


class _MustBe(ValueError):
    """What a setting must be, said of the setting: "auto_lock_minutes must be …"."""


def _whole_number(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None  # Python's "invalid literal for int()" is no sentence for people
        if number is None or not low <= number <= high:
            raise _MustBe(f"a whole number between {low} and {high}")
        return number

    return check


def _text(value: Any) -> str:
    return str(value).strip()


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("say on or off")


def _web_address(value: Any) -> str:

    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("it must be a web address such as http://127.0.0.1:11434")
    if parts.username or parts.password:
        raise ValueError("put the API key in ai.api_key, not in the address")
    return text


def _quiet_hours(value: Any) -> str:
    text = str(value).strip()
    if not text:
        return ""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[3]) > 23 or int(match[2]) > 59 or int(
            match[4]) > 59:
        raise ValueError("give two times such as 22:00-07:00, or nothing for none")
    start, end = f"{int(match[1]):02d}:{match[2]}", f"{int(match[3]):02d}:{match[4]}"
    if start == end:
        raise ValueError("the two times must differ")
    return f"{start}-{end}"


def _model_name(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("name a model, for example llama3.2")
    return text


SETTINGS: dict[str, Setting] = {
    "current_patient": Setting(None, _text, description="the patient the screens show"),
    "journal.default_privacy": Setting(
        "shared", _one_of("private", "shared"),
        description="privacy of new entries: shared (with your therapist and the AI "
        "companion) or private (never leaves the vault)"),
    "auto_lock_minutes": Setting(5, _whole_number(1, 720),
                                 description="minutes idle before the app locks"),
    "backup.every_days": Setting(
        7, _whole_number(0, 365),
        description="the app makes a backup when you unlock it and the newest is this many "
        "days old (0: never)"),
    "backup.keep": Setting(
        10, _whole_number(0, 1000),
        description="after an automatic backup, keep this many of the newest (0: keep all)"),
    "backup.folder": Setting(
        "", _text, description="where backups go (empty: the backups folder in LUNA_HOME)"),
    "attachments.max_mb": Setting(
        100, _whole_number(1, 4096),
        description="the largest file you can attach, in MB"),
    "ai.base_url": Setting(
        "http://127.0.0.1:11434", _web_address,
        description="the AI model's OpenAI-compatible endpoint (default: Ollama on this "
        "machine)"),
    "ai.model": Setting("llama3.2", _model_name, description="the model the AI companion uses"),
    "ai.api_key": Setting("", _text, secret=True,
                          description="the API key for the AI endpoint, if it needs one"),
    "ai.allow_remote": Setting(
        False, _yes_no,
        description="allow an AI endpoint on another machine (your health data then leaves "
        "this machine)"),
    "ai.timeout_seconds": Setting(
        120, _whole_number(1, 3600),
        description="seconds to wait for the AI model to connect or send the next words"),
    "dose.early_minutes": Setting(
        60, _whole_number(0, 720),
        description="a dose's window opens this many minutes before its time: taken "
        "earlier, Luna asks first"),
    "dose.late_minutes": Setting(
        120, _whole_number(0, 720),
        description="a dose's window closes this many minutes after its time: taken later "
        "counts as late, and one not logged by then is marked missed while Luna reminds"),
    "reminders.enabled": Setting(
        True, _yes_no, description="remind of doses, refills and appointments while the "
        "app or an agent is unlocked"),
    "reminders.repeat_minutes": Setting(
        10, _whole_number(1, 720),
        description="remind again of a dose every this many minutes until it is logged"),
    "reminders.snooze_minutes": Setting(
        15, _whole_number(1, 720), description="how long Snooze puts off a dose reminder"),
    "reminders.quiet_hours": Setting(
        "", _quiet_hours, description="no reminders between these times, e.g. 22:00-07:00 "
        "(empty: none); what falls due then waits until they end"),
    "reminders.refill_days": Setting(
        7, _whole_number(0, 365),
        description="remind of a refill once a day when fewer days of supply are left "
        "(0: never)"),
    "reminders.appointment_hours": Setting(
        2, _whole_number(0, 72),
        description="remind of an appointment this many hours before, besides the day "
        "before (0: only the day before)"),
    "reminders.show_details": Setting(
        False, _yes_no,
        description="name medications and appointments in notifications (off: \"Luna: 2 "
        "doses due\"; lock screens show notifications)"),
    "agent.unlocks_app": Setting(
        False, _yes_no,
        description="open the app without the passphrase while `luna unlock` holds the "
        "vault (the agent then hands its key to the app; see README, Security)"),
    "agent.follows_app": Setting(
        False, _yes_no,
        description="when you unlock the app, a waiting agent (`luna agent --wait`, e.g. "
        "started at login) unlocks too: the app passes it your passphrase over its socket"),
    # The safety plan (services/safety/): what may open it, and whether the AI sees it.
    "safety.plan_key": Setting(
        True, _yes_no, description="f1 (or f3) opens your safety plan from anywhere in the "
        "app (off: it is still in the command palette, ctrl+p)"),
    "safety.phrase_trigger": Setting(
        True, _yes_no, description="open the safety plan when an entry you save holds one "
        "of the plan's phrases (the list is in the plan)"),
    "safety.mood_drop_trigger": Setting(
        True, _yes_no, description="open the safety plan when the mood you save drops by "
        "safety.mood_drop_points over safety.mood_drop_days"),
    "safety.mood_drop_points": Setting(
        3, _whole_number(1, 9), description="how far below your best day (its average "
        "mood, 1-10) a mood you save must be to open the plan"),
    "safety.mood_drop_days": Setting(
        7, _whole_number(1, 60), description="how many days before an entry its best day "
        "is looked for"),
    "safety.share_with_ai": Setting(
        False, _yes_no, description="let the AI companion read your safety plan (off: it "
        "never sees it)"),
}

# Settings that only a passphrase typed here may turn on: never imported from a file,
# never changed through a Luna agent (either way, a process that may only ask the agent
# could turn on its own hand-off of the key).
PASSPHRASE_ONLY = frozenset({"agent.unlocks_app", "agent.follows_app"})


class Settings(DomainService):
    @on_db_thread
    def get(self, name: str) -> Any:
        setting = _known(name)
        row = Config.get_or_none(Config.key == name)
        return setting.default if row is None else json.loads(row.value)

    @on_db_thread
    def set(self, name: str, value: Any) -> Any:
        setting = _known(name)
        try:
            value = setting.check(value)
        except _MustBe as exc:
            raise ValidationError(f"{name} must be {exc}; '{value}' is not.", name) from None
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"'{value}' is not a valid {name}: {exc}.", name) from None
        with self.session.writing("change a setting") as tx:
            row = Config.get_or_none(Config.key == name)
            old = None if row is None else json.loads(row.value)
            stamp = self.stamp()
            encoded = json.dumps(value)
            if row is None:
                Config.create(key=name, value=encoded, created_at=stamp, updated_at=stamp)
            else:
                Config.update(value=encoded, updated_at=stamp).where(Config.key == name).execute()
            shown = ["(secret)", "(secret)"] if setting.secret else [old, value]
            tx.record("settings.set", record_locator=name, diff={name: shown})
        return value

    @on_db_thread
    def current_patient_id(self) -> str:
        """The current patient, or the first active one if that setting points nowhere."""
        wanted = self.get("current_patient")
        if wanted and Patient.select().where(Patient.id == wanted, Patient.active == 1).exists():
            return wanted
        fallback = (Patient.select(Patient.id).where(Patient.active == 1)
                    .order_by(owner_first(), Patient.created_at).first())
        if fallback is None:
            fallback = Patient.select(Patient.id).order_by(Patient.created_at).first()
        if fallback is None:
            raise ValidationError("There are no patients in this vault; add one first.")
        return fallback.id


def _known(name: str) -> Setting:
    if name not in SETTINGS:
        raise ValidationError(f"There is no setting called '{name}'.", name)
    return SETTINGS[name]
