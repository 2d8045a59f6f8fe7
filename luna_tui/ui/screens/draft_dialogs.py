"""The two questions about drafts: which one to resume after an unlock, and what to do
with unsaved changes when quitting (ui/drafts.py asks them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from luna_tui.clock import parse_utc_timestamp
from luna_tui.services.drafts import Drafts
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault

if TYPE_CHECKING:
    from collections.abc import Callable

    from luna_tui.services.drafts import DraftView

PREVIEW_FIELDS = ("title", "name", "content", "provider_name", "reason", "value", "notes",
                  "text", "description", "system_prompt")
PREVIEW_CHARS = 36


def preview(draft: DraftView) -> str:
    """A few words of the draft, so a person knows which one it is (the vault is open)."""
    for name in (*PREVIEW_FIELDS, *sorted(draft.fields)):
        value = draft.fields.get(name)
        if isinstance(value, str) and value.strip():
            words = " ".join(value.split())
            return words if len(words) <= PREVIEW_CHARS else words[:PREVIEW_CHARS - 1] + "…"
    return ""


def when(timestamp: str) -> str:
    return parse_utc_timestamp(timestamp).astimezone().strftime("%d %b %H:%M")


class DraftsDialog(UsesVault, ModalScreen["DraftView | None"]):
    """Drafts left by a lock, a quit or a crash. Enter resumes the highlighted one, d
    discards it (after asking), Escape leaves them all for the next unlock."""

    BINDINGS = [
        Binding("d", "discard", "Discard", id="drafts.discard"),
        Binding("escape", "later", "Later", id="drafts.later"),
    ]

    def __init__(self, drafts: list[DraftView], describe: Callable[[DraftView], str]) -> None:
        """`describe`: what a draft is ("New journal entry for Me"), from the forms'
        registry (ui/drafts.py), which opens these dialogs."""
        super().__init__()
        self.drafts = {draft.id: draft for draft in drafts}
        self.describe = describe

    def compose(self) -> ComposeResult:
        describe = self.describe
        with Vertical(classes="dialog wide"):
            yield Label("Unsaved drafts", classes="heading")
            yield Label("What you were typing when Luna locked or closed is kept, encrypted "
                        "in the vault.", classes="muted")
            yield OptionList(*[Option(plain(self._line(d, describe(d))), id=d.id)
                               for d in self.drafts.values()], id="drafts")
            yield Label("Enter resumes it · d discards it · Escape: later (offered again at "
                        "the next unlock)", classes="muted")

    @staticmethod
    def _line(draft: DraftView, what: str) -> str:
        words = preview(draft)
        parts = [what, f"“{words}”" if words else "", when(draft.updated_at)]
        return " · ".join(part for part in parts if part)

    def on_mount(self) -> None:
        self.query_one("#drafts", OptionList).focus()

    def _highlighted(self) -> DraftView | None:
        options = self.query_one("#drafts", OptionList)
        if options.highlighted is None:
            return None
        return self.drafts.get(options.get_option_at_index(options.highlighted).id or "")

    @on(OptionList.OptionSelected, "#drafts")
    def resume(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.drafts.get(event.option.id or ""))

    def action_later(self) -> None:
        self.dismiss(None)

    async def action_discard(self) -> None:
        draft = self._highlighted()
        if draft is None:
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._discard(draft)

        await self.app.push_screen(ConfirmDialog(
            "Discard this draft?", f"{self.describe(draft)}: what it holds is deleted for good.",
            "Discard"), answered)

    async def _discard(self, draft: DraftView) -> None:
        session = self.vault.session
        if session is None:
            return
        try:
            await self.vault.call(Drafts(session).discard, draft.id)  # audited, once
        except ServiceFailed:
            return
        del self.drafts[draft.id]
        options = self.query_one("#drafts", OptionList)
        options.remove_option(draft.id)
        if not self.drafts:
            self.dismiss(None)


class QuitDialog(ModalScreen[str | None]):
    """ctrl+q with unsaved changes: keep them as a draft and quit (y), discard them and
    quit (d), or stay (n, Escape)."""

    KEEP = "keep"
    DISCARD = "discard"
    BINDINGS = [
        Binding("y", "answer('keep')", "Keep and quit", id="quit.keep"),
        Binding("d", "answer('discard')", "Discard and quit", id="quit.discard"),
        Binding("n,escape", "answer(None)", "Stay", id="quit.stay"),
    ]

    def __init__(self, nouns: list[str]) -> None:
        super().__init__()
        self.nouns = nouns

    def compose(self) -> ComposeResult:
        what = (f"the {self.nouns[0]} you are writing" if len(self.nouns) == 1
                else f"{len(self.nouns)} forms")
        with Vertical(classes="dialog wide"):
            yield Label("Quit with unsaved changes?", classes="heading")
            yield Label(f"Keeping them saves {what} as an encrypted draft in the vault; the "
                        "next unlock offers to resume it.", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("Keep draft and quit (y)", id=self.KEEP, variant="primary")
                yield Button("Discard and quit (d)", id=self.DISCARD, variant="error")
                yield Button("Stay (n)", id="stay")

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id if event.button.id in (self.KEEP, self.DISCARD) else None)

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
