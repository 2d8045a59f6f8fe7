"""What every form screen shares: ctrl+s / F2 saves (every terminal delivers both),
Escape leaves and asks first if anything changed, and a ValidationError appears under
the field it names, in the service's own words.

Every form keeps a draft of what is typed (ui/draft_keeper.py): saving the form or
leaving it on purpose forgets it; a lock, a quit or a crash leaves it for the next
unlock, which opens the same form again through `from_draft`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual.screen import Screen

from luna_tui.errors import LunaError, NotFound, ValidationError
from luna_tui.ui.draft_keeper import DraftKeeper
from luna_tui.ui.plain_text import escape_field_controls
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.field import clear_error_of, clear_errors, show_field_error

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from textual.widget import Widget
    from textual.widgets import Checkbox, Input, Select, TextArea

    from luna_tui.services.drafts import DraftView
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.ui.vault_calls import VaultCalls

T = TypeVar("T")
R = TypeVar("R")


class FormScreen(UsesVault, Screen[T | None], Generic[T]):
    """Subclasses give `values()`, `submit(values)` and `saved_message(saved)`, bind
    ctrl+s,f2 to `save` (priority) and escape to `leave`, and call `remember_initial()`
    once their fields are filled. For their drafts they name `DRAFT_KIND`, say which row
    they change (`draft_item_id`) and how to open again from a draft (`from_draft`)."""

    ACTION = "save this"  # what a read-only key is told it cannot do
    LOST = "Your changes will be lost."  # what leaving without saving loses
    # The service's name for a field → the id of the widget it belongs under.
    FIELD_IDS: dict[str, str] = {}
    DRAFT_KIND: ClassVar[str]  # which form, in its drafts (ui/drafts.py lists them)
    DRAFT_FOR_PATIENT: ClassVar[bool] = True  # False: the form is nobody's (a persona)

    _initial: dict[str, Any] | None = None
    _resumed: DraftView | None = None
    draft: DraftKeeper | None = None

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> Self:
        """The form a draft was typed into, on the row it changes (as a new one if that
        row is gone)."""
        raise NotImplementedError

    def draft_item_id(self) -> str | None:
        """The id of the row this form changes; None for a new one."""
        return None

    def draft_context(self) -> dict[str, Any]:
        """What else `from_draft` needs to open the same form again."""
        return {}

    def resume_draft(self, draft: DraftView) -> None:
        """Before it is shown: fill the form from this draft once its fields are made."""
        self._resumed = draft


    @property
    def session(self) -> VaultSession:
        return self.vault.open_session

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    async def submit(self, values: dict[str, Any]) -> T:
        raise NotImplementedError

    def saved_message(self, saved: T) -> str:
        return "Saved."

    def field_for(self, name: str | None) -> str | None:
        """The id of the input under which the service's complaint about `name` goes."""
        return self.FIELD_IDS.get(name or "", name)

    def remember_initial(self) -> None:
        escape_field_controls(self)  # text stored before controls were refused
        self._initial = self.values()
        if self.draft is None:
            self.draft = DraftKeeper(
                self, self.DRAFT_KIND, item_id=self.draft_item_id(),
                patient_id=self.vault.patient_id if self.DRAFT_FOR_PATIENT else None,
                context=self.draft_context())
            self.draft.start(self._resumed)

    # Every change of a field, whatever the widget: the draft follows, and the error
    # under that field goes (it spoke of what was there before).
    def on_input_changed(self, event: Input.Changed) -> None:
        self._field_changed(event.input)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._field_changed(event.text_area)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._field_changed(event.select)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._field_changed(event.checkbox)

    def _field_changed(self, widget: Widget) -> None:
        clear_error_of(widget)
        if self.draft is not None:
            self.draft.field_changed()

    async def on_unmount(self) -> None:
        if self.draft is not None:
            await self.draft.form_closing()

    async def _forget_draft(self) -> None:
        if self.draft is not None:
            await self.draft.finish()

    @property
    def dirty(self) -> bool:
        return self._initial is not None and self.values() != self._initial

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save" and self.vault.read_only:
            return None
        return True

    def why_disabled(self, action: str) -> str | None:
        return self.vault.refusal(self.ACTION) if action == "save" else None

    async def action_save(self) -> None:
        if not self.vault.writable(self.ACTION):
            return
        clear_errors(self)
        try:
            saved = await self.submit(self.values())
        except ValidationError as error:
            self.show_error(error)
            return
        except (LunaError, ServiceFailed) as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        await self._forget_draft()
        await self.after_save(saved)

    def show_error(self, error: ValidationError) -> None:
        """Under the field it names, else as a notification."""
        field = self.field_for(error.field)
        if not (field and show_field_error(self, field, str(error))):
            self.notify(str(error), severity="error", timeout=10)

    async def after_save(self, saved: T) -> None:
        """Once saved: say so and leave. A form with more to do after saving (the record
        form attaches its files) overrides this."""
        self.notify(self.saved_message(saved))
        self.dismiss(saved)

    async def action_leave(self) -> None:
        if not self.dirty:
            await self._forget_draft()  # changed, then changed back
            self.dismiss(None)
            return

        async def answered(discard: bool | None) -> None:
            if discard:
                await self._forget_draft()
                self.dismiss(None)

        await self.app.push_screen(ConfirmDialog("Leave without saving?", self.LOST,
                                                 "Discard"), answered)


async def item_or_none(vault: VaultCalls, fetch: Callable[[str], R], item_id: str | None,
                       noun: str) -> R | None:
    """The row a draft changes, or None (said) when it was deleted meanwhile: the draft
    then opens as a new one, so its text is not lost with the row."""
    if item_id is None:
        return None
    try:
        return await vault.attempt(fetch, item_id)
    except NotFound:
        vault.notify(f"The {noun} this draft changed was deleted meanwhile; the draft opens "
                    f"as a new {noun}.", severity="warning", timeout=10)
        return None
    except LunaError as error:
        vault.notify(str(error), severity="error", timeout=10)
        raise ServiceFailed(str(error)) from error
