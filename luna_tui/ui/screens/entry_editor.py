"""Writing or changing an entry: the text on the left, its details on the right.

Save with ctrl+s or F2 (every terminal delivers both); Escape leaves, asking first if
anything changed. The text never goes to an editor temp file: while it is typed it is
kept as an encrypted draft inside the vault (ui/draft_keeper.py), so a lock or a quit
loses nothing. Errors appear under the field they concern, in the service's own words.
A new entry may start from one of the person's templates: its title, text, tags and
type filled in, and the mood and sleep fields hidden when the template does not ask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Select, TextArea

from luna_tui.errors import FutureEntry, LunaError, ValidationError
from luna_tui.services.journal import PROMPTS, EntryDraft, Journal
from luna_tui.ui.messages import EntrySaved
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.form import FormScreen, item_or_none
from luna_tui.ui.widgets.field import Field, FieldColumn, show_field_error
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.entry_templates import FilledTemplate
    from luna_tui.services.journal import Entry
    from luna_tui.ui.vault_calls import VaultCalls

TYPES = [("free writing", "free"), ("prompted", "prompted"), ("mood check", "mood_check")]
PRIVACY = [("shared with therapist", "shared"), ("private", "private")]
SCALE = [(f"{n}", str(n)) for n in range(1, 11)]
FIELDS = ("title", "entry_date", "entry_time", "mood", "mood_scale", "sleep_hours",
          "emotions", "tags", "journal_type", "prompt", "privacy_level")


class EntryEditorScreen(FormScreen["Entry"]):
    """Dismisses with the saved entry, or None when left without saving."""

    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="editor.save", priority=True),
        Binding("escape", "leave", "Back", id="editor.leave"),
    ]
    ACTION = "save an entry"
    LOST = "Your changes to this entry will be lost."
    DRAFT_KIND = "journal_entry"

    def __init__(self, entry: Entry | None, template: FilledTemplate | None = None) -> None:
        super().__init__()
        self.entry = entry
        self.template = template if entry is None else None
        # An entry dated after now is saved only once the person said yes to it: `tomorrow`
        # typed for `yesterday` is a slip more often than a plan.
        self.future_ok = False

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> EntryEditorScreen:
        return cls(await item_or_none(vault, Journal(vault.open_session).get, draft.item_id,
                                      "entry"))

    def draft_item_id(self) -> str | None:
        return self.entry.id if self.entry else None

    def compose(self) -> ComposeResult:
        entry, template = self.entry, self.template
        now = self.vault.clock.now().astimezone()
        yield TopBar("Journal · " + ("editing" if entry else "new entry") + (
            f" · {template.template.name}" if template else ""))
        with Horizontal(id="editor"):
            text = TextArea(entry.content if entry else template.content if template else "",
                            id="content", soft_wrap=True, show_line_numbers=False)
            text.border_title = "Write in Markdown · Tab moves to the details"
            yield text
            with FieldColumn(id="editor-fields"):
                yield self._input("title", "title", entry.title if entry else
                                  template.title if template else "", "optional")
                with Horizontal(classes="pair"):
                    yield self._input("date", "entry_date", entry.entry_date if entry
                                      else now.date().isoformat(), "e.g. yesterday, monday")
                    yield self._input("time", "entry_time", entry.entry_time if entry
                                      else now.strftime("%H:%M"), "08:10")
                with Horizontal(classes="pair", id="mood-pair"):
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
                                  " ".join(f"#{t}" for t in (entry or template).tags)
                                  if entry or template else "",
                                  "e.g. #sleep #knee")
                yield Field("type", Select(TYPES, allow_blank=False, id="journal_type",
                                           compact=True,
                                           value=(entry or template).journal_type
                                           if entry or template else "free"))
                # The built-in prompts, and the entry's or template's own question.
                own = (entry or template).prompt if entry or template else None
                prompts = [*PROMPTS, *([own] if own and own not in PROMPTS else [])]
                yield Field("prompt", Select([(p, p) for p in prompts], prompt="pick a prompt",
                                             id="prompt", compact=True,
                                             value=own or Select.NULL))
                yield Field("privacy", Select(PRIVACY, allow_blank=False, id="privacy_level",
                                              compact=True,
                                              value=entry.privacy_level if entry else "shared"))
                yield Checkbox("★ favorite", entry.favorite if entry else False, id="favorite")
        yield KeysFooter(compact=True)

    @staticmethod
    def _input(label: str, field_id: str, value: str | None, placeholder: str) -> Field:
        return Field(label, Input(value or "", placeholder=placeholder, id=field_id,
                                  compact=True))

    async def on_mount(self) -> None:
        if self.entry is None:
            from luna_tui.services.settings import Settings

            try:
                default = await self.vault.attempt(Settings(self.vault.session).get,
                                                  "journal.default_privacy")
                self.query_one("#privacy_level", Select).value = default
            except LunaError:
                pass  # the shared default stays
        self._show_prompt_field()
        if self.template is not None:
            self.query_one("#mood-pair").display = self.template.asks_mood
            self.query_one("#sleep_hours", Input).parent.display = (  # type: ignore[union-attr]
                self.template.asks_sleep)
        self.remember_initial()
        self.query_one("#content", TextArea).focus()

    @on(Select.Changed, "#journal_type")
    def _show_prompt_field(self) -> None:
        prompted = self.query_one("#journal_type", Select).value == "prompted"
        self.query_one("#prompt", Select).parent.display = prompted  # type: ignore[union-attr]

    def values(self) -> dict[str, Any]:
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

    async def submit(self, values: dict[str, Any]) -> Entry:
        journal = Journal(self.session)
        if self.entry is None:
            return await self.vault.attempt(journal.create, self.vault.patient_id, EntryDraft(
                content=str(values["content"]), **{k: values[k] for k in FIELDS},
                favorite=bool(values["favorite"])), future_ok=self.future_ok)
        return await self.vault.attempt(journal.update, self.entry.id,
                                        future_ok=self.future_ok, **values)

    async def after_save(self, saved: Entry) -> None:
        app, before = self.app, self.entry
        await super().after_save(saved)  # off the stack first: the plan shows over the place
        if before is None:
            app.post_message(EntrySaved(saved.id))
            return
        app.post_message(EntrySaved(
            saved.id, words_changed=(before.title, before.content) != (saved.title,
                                                                      saved.content),
            mood_changed=before.mood_scale != saved.mood_scale))

    def show_error(self, error: ValidationError) -> None:
        if isinstance(error, FutureEntry):
            self._ask_about_the_future(error)
            return
        if not (error.field and show_field_error(self, error.field, str(error))):
            self.notify(str(error), severity="error", timeout=10)
            self.query_one("#content", TextArea).focus()

    def _ask_about_the_future(self, error: FutureEntry) -> None:
        """Save an entry dated after now only if the person says so; else the date field
        has the focus, to be put right."""

        async def answered(save: bool | None) -> None:
            if save:
                self.future_ok = True
                try:
                    await self.action_save()
                finally:
                    self.future_ok = False
            else:
                self.query_one("#entry_date", Input).focus()

        when = f"{error.day} {error.time}".strip()
        self.app.push_screen(ConfirmDialog(
            f"Save this entry dated {when}, in the future?",
            "Entries are usually about what happened; check the date and time.",
            "Save", danger=False), answered)
