"""What every form screen shares: ctrl+s / F2 saves (every terminal delivers both),
Escape leaves and asks first if anything changed, and a ValidationError appears under
the field it names, in the service's own words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.screen import Screen

from luna_tui.errors import LunaError, ValidationError
from luna_tui.ui.app import ServiceFailed
from luna_tui.ui.widgets.field import clear_errors, show_field_error

if TYPE_CHECKING:
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.ui.app import LunaApp

T = TypeVar("T")


class FormScreen(Screen[T | None], Generic[T]):
    """Subclasses give `values()`, `submit(values)` and `saved_message(saved)`, bind
    ctrl+s,f2 to `save` (priority) and escape to `leave`, and call `remember_initial()`
    once their fields are filled."""

    ACTION = "save this"  # what a read-only key is told it cannot do
    LOST = "Your changes will be lost."  # what leaving without saving loses
    # The service's name for a field → the id of the widget it belongs under.
    FIELD_IDS: dict[str, str] = {}

    _initial: dict[str, Any] | None = None

    @property
    def luna(self) -> LunaApp:
        return self.app  # type: ignore[return-value]

    @property
    def session(self) -> VaultSession:
        session = self.luna.session
        if session is None:
            raise ServiceFailed("the vault is locked")
        return session

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
        self._initial = self.values()

    @property
    def dirty(self) -> bool:
        return self._initial is not None and self.values() != self._initial

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save" and self.luna.read_only:
            return None
        return True

    async def action_save(self) -> None:
        if not self.luna.writable(self.ACTION):
            return
        clear_errors(self)
        try:
            saved = await self.submit(self.values())
        except ValidationError as error:
            field = self.field_for(error.field)
            if not (field and show_field_error(self, field, str(error))):
                self.notify(str(error), severity="error", timeout=10)
            return
        except (LunaError, ServiceFailed) as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        await self.after_save(saved)

    async def after_save(self, saved: T) -> None:
        """Once saved: say so and leave. A form with more to do after saving (the record
        form attaches its files) overrides this."""
        self.notify(self.saved_message(saved))
        self.dismiss(saved)

    async def action_leave(self) -> None:
        from luna_tui.ui.screens.dialogs import ConfirmDialog

        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        await self.app.push_screen(ConfirmDialog("Leave without saving?", self.LOST,
                                                 "Discard"), answered)
