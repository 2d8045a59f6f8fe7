"""The draft hook: what a form holds is kept as an encrypted draft while the person types.

A form makes one `DraftKeeper` once its fields are filled (`start`) and tells it when a
field changes (`field_changed`). The keeper reads the fields — every Input, TextArea,
Select and Checkbox with an id, so a form needs no code of its own for it — and a pause
in typing (DEBOUNCE_SECONDS) later keeps them through the drafts service, on the DB
thread. `OpenDrafts`, one per app, knows every keeper whose form is open: the lock, the
auto-lock and quitting call `keep_all` before the vault closes, and a form taken down
by a crash keeps its draft as it goes. Saving the form, or leaving it on purpose,
forgets the draft (`finish`); the next unlock offers what is left (ui/drafts.py).

A read-only key keeps no drafts: its keeper never starts. The app imports this module
at start; the widgets it reads are imported when a form first uses it (TextArea alone
would add tens of milliseconds before the unlock screen paints).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from luna_tui.errors import LunaError

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer
    from textual.widget import Widget

    from luna_tui.services.drafts import DraftView
    from luna_tui.services.vault_session import VaultSession

DEBOUNCE_SECONDS = 1.5  # after the last change: one write per pause, not per key
_FIELD_ID = re.compile(r"[A-Za-z_][\w-]*")


def field_values(root: Widget) -> dict[str, Any]:
    """What each field under `root` holds, by its id. A control character pasted into
    one is kept escaped: the drafts service refuses them, and the typing must stay."""
    from textual.widgets import Checkbox, Input, Select, TextArea

    from luna_tui.ui.plain_text import field_text

    values: dict[str, Any] = {}
    for widget in root.query("*"):
        if not isinstance(widget, Input | TextArea | Select | Checkbox) or widget.id is None:
            continue
        if isinstance(widget, TextArea):
            values[widget.id] = field_text(widget.text)
        elif isinstance(widget, Select):
            values[widget.id] = None if widget.value is Select.NULL else widget.value
        elif isinstance(widget, Input):
            values[widget.id] = field_text(widget.value)
        else:
            values[widget.id] = widget.value
    return values


def fill_fields(root: Widget, values: dict[str, Any]) -> None:
    """Put `values` back into the fields with those ids. A choice the field no longer
    offers is left as it is (a Select can only show its own options)."""
    from textual.css.query import NoMatches
    from textual.widgets import Checkbox, Input, Select, TextArea
    from textual.widgets._select import InvalidSelectValueError

    from luna_tui.ui.plain_text import field_text

    for name, value in values.items():
        if not _FIELD_ID.fullmatch(name):
            continue
        try:
            widget = root.query_one(f"#{name}")
        except NoMatches:
            continue
        if isinstance(value, str):
            value = field_text(value)  # a draft kept before controls were refused
        if isinstance(widget, TextArea):
            widget.text = str(value or "")
            widget.move_cursor(widget.document.end)  # go on where the person stopped
        elif isinstance(widget, Select):
            try:
                widget.value = Select.NULL if value is None else value
            except InvalidSelectValueError:
                pass
        elif isinstance(widget, Checkbox):
            widget.value = bool(value)
        elif isinstance(widget, Input):
            widget.value = "" if value is None else str(value)


class KeeperSeam(Protocol):
    """What a keeper needs of the seam (ui/vault_calls.py's VaultCalls has it)."""

    @property
    def session(self) -> VaultSession | None: ...

    @property
    def open_drafts(self) -> OpenDrafts: ...

    def notify(self, message: str, *, severity: str = ..., timeout: float | None = ...
               ) -> None: ...


class DraftKeeper:
    """Keeps the draft of one open form."""

    def __init__(self, form: Screen, kind: str, *, item_id: str | None = None,
                 patient_id: str | None = None, context: dict[str, Any] | None = None) -> None:
        """`kind`: which form (services/drafts.py); `item_id`: the row it changes, None
        for a new one; `patient_id`: whose data it is, None when it is nobody's (a
        persona); `context`: what else reopens the same form (a follow-up's origin)."""
        self.form = form
        self.kind = kind
        self.item_id = item_id
        self.patient_id = patient_id
        self.context = context or {}
        self.draft_id = str(uuid.uuid4())
        self.started = False
        self._initial: dict[str, Any] = {}
        self._latest: dict[str, Any] = {}  # as last read from the fields
        self._kept: dict[str, Any] | None = None  # what the vault holds (None: nothing)
        self._written = False  # a row may exist: finishing must delete it
        self._timer: Timer | None = None
        self._writing = asyncio.Lock()
        self._told_failure = False

    @property
    def vault(self) -> KeeperSeam:
        """The form's seam to the vault (ui/vault_calls.py)."""
        return self.form.app.vault  # type: ignore[attr-defined]

    # -- the form's life ------------------------------------------------------------------

    def start(self, resumed: DraftView | None = None) -> None:
        """Once the form's fields are filled: remember them as they started and, for a
        resumed draft, fill in what it held."""
        session = self.vault.session
        if session is None or session.read_only:
            return  # drafts belong to owner keys: a read-only key keeps none
        self._initial = self._latest = field_values(self.form)
        if resumed is not None:
            self.draft_id = resumed.id
            self._kept, self._written = dict(resumed.fields), True
            fill_fields(self.form, resumed.fields)
            self._latest = field_values(self.form)
        self.started = True
        self.vault.open_drafts.add(self)

    def read_fields(self) -> None:
        if self.started:
            self._latest = field_values(self.form)

    def field_changed(self) -> None:
        """A field changed: read them all now, keep them after a pause in typing."""
        if not self.started:
            return
        self.read_fields()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.form.set_timer(DEBOUNCE_SECONDS, self._keep_after_pause)

    @property
    def changed(self) -> bool:
        """Whether the form holds something other than what it opened with."""
        return self.started and self._latest != self._initial

    async def finish(self) -> None:
        """The form was saved, or left on purpose: its draft goes (never audited)."""
        from luna_tui.services.drafts import Drafts

        was_started, self.started = self.started, False
        self._stop()
        session = self.vault.session
        if not was_started or not self._written or session is None:
            return
        async with self._writing:
            try:
                await asyncio.to_thread(Drafts(session).forget, self.draft_id)
            except LunaError as error:
                self.vault.notify(f"The draft of this form could not be removed ({error}); "
                                 "the next unlock will offer it.", severity="warning")
            else:
                self._kept, self._written = None, False

    async def form_closing(self) -> None:
        """The form goes without being saved or left (a lock, a quit, a crash): what was
        typed since the last pause is kept while the vault is still open."""
        if not self.started:
            return
        session = self.vault.session
        if session is not None and not session.closed:
            await self.keep_now(session)
        self.started = False
        self._stop()

    # -- keeping --------------------------------------------------------------------------

    async def _keep_after_pause(self) -> None:
        session = self.vault.session
        if session is None or not self.started:
            return
        problem = await self.keep_now(session)
        if problem and not self._told_failure:
            self._told_failure = True  # once: not at every pause in typing
            self.vault.notify(problem, severity="error", timeout=10)

    async def keep_now(self, session: VaultSession) -> str | None:
        """Write what the fields hold, unless the vault has it already; the sentence of
        why it could not be kept, or None."""
        from luna_tui.services.drafts import Drafts

        async with self._writing:
            values = self._latest
            if not self.started or values == self._kept or (
                    values == self._initial and not self._written):
                return None
            drafts = Drafts(session)
            try:
                self._written = True
                if values == self._initial:  # changed back: nothing left to keep
                    await asyncio.to_thread(drafts.forget, self.draft_id)
                    self._kept, self._written = None, False
                else:
                    await asyncio.to_thread(drafts.keep, self.draft_id, self.kind, values,
                                            item_id=self.item_id, patient_id=self.patient_id,
                                            context=self.context)
                    self._kept = values
            except LunaError as error:
                return f"What you typed could not be kept as a draft: {error}"
            self._told_failure = False
            return None

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.vault.open_drafts.discard(self)


class OpenDrafts:
    """The keepers of every open form (each place has its own stack of screens)."""

    def __init__(self, notify: Callable[..., None]) -> None:
        """`notify`: the App's, to say a draft could not be kept."""
        self._notify = notify
        self._keepers: list[DraftKeeper] = []

    def add(self, keeper: DraftKeeper) -> None:
        if keeper not in self._keepers:
            self._keepers.append(keeper)

    def discard(self, keeper: DraftKeeper) -> None:
        if keeper in self._keepers:
            self._keepers.remove(keeper)

    def read_all(self) -> None:
        """Read what every open form holds now, while it still shows (a lock hides the
        forms before it writes their drafts)."""
        for keeper in self._keepers:
            keeper.read_fields()

    def changed(self) -> list[DraftKeeper]:
        """The open forms holding something not saved."""
        return [keeper for keeper in self._keepers if keeper.changed]

    async def keep_all(self, session: VaultSession | None) -> bool:
        """Before the vault closes: keep what every open form holds (the next unlock
        offers it). False, after saying why, if one could not be kept."""
        if session is None or session.closed:
            return True
        problems = [problem for keeper in list(self._keepers)
                    if (problem := await keeper.keep_now(session))]
        for problem in problems[:1]:
            self._notify(problem, severity="error", timeout=15)
        return not problems
