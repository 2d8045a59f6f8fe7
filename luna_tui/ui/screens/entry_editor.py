"""Writing or changing an entry: the text on the left, its details on the right.

Save with ctrl+s or F2 (every terminal delivers both); Escape leaves, asking first if
anything changed. The text lives only in memory: there is no editor temp file, ever.
Errors appear under the field they concern, in the service's own words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Select, TextArea

from luna_tui.errors import LunaError, ValidationError
from luna_tui.ui.app import ServiceFailed
from luna_tui.ui.widgets.field import Field, FieldColumn, clear_errors, show_field_error
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.journal import Entry
    from luna_tui.ui.app import LunaApp

TYPES = [("free writing", "free"), ("prompted", "prompted"), ("mood check", "mood_check")]
PRIVACY = [("shared with therapist", "shared"), ("private", "private")]
SCALE = [(f"{n}", str(n)) for n in range(1, 11)]
FIELDS = ("title", "entry_date", "entry_time", "mood", "mood_scale", "sleep_hours",
          "emotions", "tags", "journal_type", "prompt", "privacy_level")


class EntryEditorScreen(Screen["Entry | None"]):
    """Dismisses with the saved entry, or None when left without saving."""

    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="editor.save", priority=True),
        Binding("escape", "leave", "Back", id="editor.leave"),
    ]

    def __init__(self, entry: Entry | None) -> None:
        super().__init__()
        self.entry = entry
        self._initial: dict[str, object] = {}

    @property
    def luna(self) -> LunaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        from luna_tui.services.journal import PROMPTS

        entry = self.entry
        now = self.luna.clock.now().astimezone()
        yield TopBar("Journal · " + ("editing" if entry else "new entry"))
        with Horizontal(id="editor"):
            text = TextArea(entry.content if entry else "", id="content", soft_wrap=True,
                            show_line_numbers=False)
            text.border_title = "Write in Markdown · Tab moves to the details"
            yield text
            with FieldColumn(id="editor-fields"):
                yield self._input("title", "title", entry.title if entry else "", "optional")
                with Horizontal(classes="pair"):
                    yield self._input("date", "entry_date", entry.entry_date if entry
                                      else now.date().isoformat(), "YYYY-MM-DD, today")
                    yield self._input("time", "entry_time", entry.entry_time if entry
                                      else now.strftime("%H:%M"), "08:10")
                with Horizontal(classes="pair"):
                    yield self._input("mood word", "mood", entry.mood if entry else "",
                                      "e.g. calm")
                    yield Field("mood 1–10", Select(
                        SCALE, prompt="–", id="mood_scale", compact=True,
                        value=str(entry.mood_scale) if entry and entry.mood_scale
                        else Select.NULL))
                sleep = entry.sleep_hours if entry else None
                yield self._input("sleep (hours)", "sleep_hours",
                                  "" if sleep is None else f"{sleep:g}", "e.g. 7.5")
                yield self._input("feeling", "emotions",
                                  ", ".join(entry.emotions) if entry else "",
                                  "e.g. worried, hopeful")
                yield self._input("tags", "tags",
                                  " ".join(f"#{t}" for t in entry.tags) if entry else "",
                                  "e.g. #sleep #knee")
                yield Field("type", Select(TYPES, allow_blank=False, id="journal_type",
                                           compact=True,
                                           value=entry.journal_type if entry else "free"))
                prompt = entry.prompt if entry and entry.prompt in PROMPTS else Select.NULL
                yield Field("prompt", Select([(p, p) for p in PROMPTS], prompt="pick a prompt",
                                             id="prompt", compact=True, value=prompt))
                yield Field("privacy", Select(PRIVACY, allow_blank=False, id="privacy_level",
                                              compact=True,
                                              value=entry.privacy_level if entry else "shared"))
                yield Checkbox("★ favorite", entry.favorite if entry else False, id="favorite")
        yield Footer(compact=True)

    @staticmethod
    def _input(label: str, field_id: str, value: str | None, placeholder: str) -> Field:
        return Field(label, Input(value or "", placeholder=placeholder, id=field_id,
                                  compact=True))

    async def on_mount(self) -> None:
        if self.entry is None:
            from luna_tui.services.settings import Settings

            try:
                default = await self.luna.attempt(Settings(self.luna.session).get,
                                                  "journal.default_privacy")
                self.query_one("#privacy_level", Select).value = default
            except LunaError:
                pass  # the shared default stays
        self._show_prompt_field()
        self._initial = self._values()
        self.query_one("#content", TextArea).focus()

    @on(Select.Changed, "#journal_type")
    def _show_prompt_field(self) -> None:
        prompted = self.query_one("#journal_type", Select).value == "prompted"
        self.query_one("#prompt", Select).parent.display = prompted  # type: ignore[union-attr]

    def _values(self) -> dict[str, object]:
        def value(widget_id: str) -> object:
            widget = self.query_one(f"#{widget_id}")
            raw = widget.value  # type: ignore[attr-defined]
            return None if raw is Select.NULL else raw

        values = {name: value(name) for name in FIELDS}
        values["content"] = self.query_one("#content", TextArea).text
        values["favorite"] = self.query_one("#favorite", Checkbox).value
        if values["journal_type"] != "prompted":
            values["prompt"] = None
        return values

    @property
    def dirty(self) -> bool:
        return self._values() != self._initial

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save" and self.luna.read_only:
            return None
        return True

    async def action_save(self) -> None:
        from luna_tui.services.journal import EntryDraft, Journal

        if not self.luna.writable("save an entry") or self.luna.session is None:
            return
        values = self._values()
        clear_errors(self)
        journal = Journal(self.luna.session)
        try:
            if self.entry is None:
                saved = await self.luna.attempt(journal.create, self.luna.patient_id, EntryDraft(
                    content=str(values["content"]), **{k: values[k] for k in FIELDS},
                    favorite=bool(values["favorite"])))
            else:
                saved = await self.luna.attempt(journal.update, self.entry.id, **values)
        except ValidationError as error:
            self._show_error(error)
            return
        except (LunaError, ServiceFailed) as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self.notify("Saved.")
        self.dismiss(saved)

    def _show_error(self, error: ValidationError) -> None:
        if not (error.field and show_field_error(self, error.field, str(error))):
            self.notify(str(error), severity="error", timeout=10)
            self.query_one("#content", TextArea).focus()

    async def action_leave(self) -> None:
        from luna_tui.ui.screens.dialogs import ConfirmDialog

        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        await self.app.push_screen(ConfirmDialog(
            "Leave without saving?", "Your changes to this entry will be lost.",
            "Discard"), answered)

