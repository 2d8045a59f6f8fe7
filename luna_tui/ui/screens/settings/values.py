"""The vault's settings, as `luna settings NAME VALUE` changes them: every one of
services/settings.py's SETTINGS (but the current patient, which p chooses), grouped by
what it is about, each checked by its own Setting.check through Settings.set, its
complaint under its field. Secrets (the AI API key) are typed in a field that never
shows them and are never shown back.

"Test connection" asks the AI endpoint for its models (Ollama's /api/tags, else an
OpenAI-compatible /v1/models) with the settings as saved, so a remote endpoint is asked
nothing, the API key included, until ai.allow_remote is saved on."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label

from luna_tui.errors import AiRemoteRefused, LunaError, ValidationError
from luna_tui.services.ai.model_settings import ModelSettings, available_models
from luna_tui.services.settings import SETTINGS, Settings
from luna_tui.ui.messages import SettingsChanged
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.settings.part import SettingsPart
from luna_tui.ui.widgets.field import Field, clear_errors, show_field_error

HIDDEN = {"current_patient"}  # chosen with p, from any place
GROUP_TITLES = {"auto_lock_minutes": "Locking", "journal": "Journal", "backup": "Backups",
                "attachments": "Attachments", "ai": "AI companion"}
FORGET_KEY = "forget-api-key"


def group_of(name: str) -> str:
    return name.split(".", 1)[0]


def groups() -> dict[str, list[str]]:
    """The settings shown, by group, in the order SETTINGS names them."""
    found: dict[str, list[str]] = {}
    for name in SETTINGS:
        if name not in HIDDEN:
            found.setdefault(group_of(name), []).append(name)
    return found


def field_id(name: str) -> str:
    return "setting-" + name.replace(".", "-").replace("_", "-")


def shown(value: Any) -> str:
    return "" if value is None else str(value)


class ValuesPart(SettingsPart):
    def __init__(self) -> None:
        super().__init__(id="values")
        self.saved: dict[str, Any] = {}  # as last read or saved

    def compose(self) -> ComposeResult:
        for group, names in groups().items():
            yield Label(GROUP_TITLES.get(group, group.replace("_", " ").capitalize()),
                        classes="part-heading")
            for name in names:
                setting = SETTINGS[name]
                yield Field(f"{name}: {setting.description}", self._widget(name))
                if setting.secret:
                    yield Checkbox("forget the saved key", id=FORGET_KEY, compact=True)
            if group == "ai":
                with Horizontal(classes="part-buttons"):
                    yield Button("Test connection", id="test-ai", compact=True)
                yield Label("", id="ai-models")
        with Horizontal(classes="part-buttons"):
            yield Button("Save settings (ctrl+s)", id="save-settings", variant="primary",
                         compact=True)

    def _widget(self, name: str) -> Widget:
        setting = SETTINGS[name]
        if isinstance(setting.default, bool):
            return Checkbox("on", id=field_id(name), compact=True)
        return Input(id=field_id(name), password=setting.secret, compact=True)

    async def refresh_data(self) -> None:
        session = self.session
        names = [name for names in groups().values() for name in names]

        def read() -> dict[str, Any]:
            settings = Settings(session)
            return {name: settings.get(name) for name in names}

        # Loaded again when the vault changes from outside: what is being typed stays.
        typing = self.changes() if self.saved else {}
        self.saved = await self.vault.call(session.run, read)
        for name, value in self.saved.items():
            if name not in typing:
                self._show(name, value)

    def _show(self, name: str, value: Any) -> None:
        widget = self.query_one(f"#{field_id(name)}")
        if isinstance(widget, Checkbox):
            widget.value = bool(value)
        elif SETTINGS[name].secret:  # never shown back: the field says whether one is set
            widget.value = ""
            widget.placeholder = ("a key is saved: type another to replace it" if value
                                  else "none saved")
            forget = self.query_one(f"#{FORGET_KEY}", Checkbox)
            forget.value = False
            forget.display = bool(value)  # nothing to forget otherwise
        else:
            widget.value = shown(value)

    def changes(self) -> dict[str, Any]:
        """What the form says that differs from what is saved, as typed."""
        changed: dict[str, Any] = {}
        for name, saved in self.saved.items():
            widget = self.query_one(f"#{field_id(name)}")
            if isinstance(widget, Checkbox):
                if widget.value != bool(saved):
                    changed[name] = widget.value
            elif SETTINGS[name].secret:
                if widget.value:
                    changed[name] = widget.value
                elif saved and self.query_one(f"#{FORGET_KEY}", Checkbox).value:
                    changed[name] = ""
            elif widget.value.strip() != shown(saved):
                changed[name] = widget.value
        return changed

    async def submit(self) -> None:
        await self.save()

    @on(Button.Pressed, "#save-settings")
    @on(Input.Submitted)
    async def save(self, _: object = None) -> bool:
        """Save every change, each through Settings.set; a refused one is said under its
        field, the others are saved. True when nothing was refused."""
        if not self.vault.writable("change a setting"):
            return False
        clear_errors(self)
        changes = self.changes()
        if not changes:
            self.notify("Nothing changed.")
            return True
        session = self.session
        saved: dict[str, Any] = {}
        refused = False
        for name, value in changes.items():
            try:
                saved[name] = await self.vault.attempt(Settings(session).set, name, value)
            except ValidationError as error:
                refused = True
                if not show_field_error(self, field_id(error.field or name), str(error)):
                    self.notify(str(error), severity="error", timeout=10)
            except LunaError as error:
                self.notify(str(error), severity="error", timeout=10)
                return False
        if not self.still_open(session):
            return False
        for name, value in saved.items():
            self.saved[name] = value
            self._show(name, value)
        if saved:
            said = ", ".join(f"{name} = {'(secret)' if SETTINGS[name].secret else value}"
                             for name, value in saved.items())
            self.notify(f"Saved {said}.")
            self.post_message(SettingsChanged({name: value for name, value in saved.items()
                                               if not SETTINGS[name].secret}))
        return not refused

    # -- the AI endpoint -----------------------------------------------------------------

    @on(Button.Pressed, "#test-ai")
    def test_pressed(self) -> None:
        self.test_connection()

    @work(group="ai-test", exclusive=True, exit_on_error=False)
    async def test_connection(self) -> None:
        """With the settings as saved: changes are saved first (said), so what is asked,
        and whether a remote endpoint may be, is what the companion will use."""
        result = self.query_one("#ai-models", Label)
        result.remove_class("error")
        if any(group_of(name) == "ai" for name in self.changes()):
            if self.vault.read_only:
                result.update("Unsaved changes (a read-only key can't save them): the test "
                              "uses the settings as saved.")
            elif not await self.save():
                result.update("Fix the settings above first; the test uses them as saved.")
                result.add_class("error")
                return
        session = self.vault.session
        if session is None:
            return
        try:
            config = await self.vault.attempt(ModelSettings(session).provider_config)
            result.update(plain(f"Asking {config.base_url} for its models…"))
            models = await self.vault.attempt(available_models, config)
        except AiRemoteRefused as error:
            if self.still_open(session):
                result.update(plain(f"{error} Here: tick ai.allow_remote and save."))
                result.add_class("error")
            return
        except LunaError as error:
            if self.still_open(session):
                result.update(plain(str(error)))
                result.add_class("error")
            return
        if not self.still_open(session):
            return
        result.update(plain(models_sentence(config.base_url, config.model, models)))


def models_sentence(base_url: str, model: str, models: list[str]) -> str:
    if not models:
        return f"Connected to {base_url}, which has no models yet (ollama pull {model})."
    names = ", ".join(models[:12]) + (f" and {len(models) - 12} more" if len(models) > 12
                                      else "")
    there = model in models or f"{model}:latest" in models
    count = f"{len(models)} model{'s' if len(models) != 1 else ''}"
    return (f"Connected to {base_url}: {count}: {names}. "
            + (f"ai.model '{model}' is among them." if there else
               f"ai.model '{model}' is NOT among them: set one of these."))
