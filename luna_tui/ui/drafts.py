"""Drafts in the app, beyond the hook itself (ui/draft_keeper.py): which form each kind
of draft opens, in which place; the offer to resume them after an unlock; and the
question before quitting with a form that holds unsaved changes.

Resuming switches to the draft's patient and place, opens the same form on the same
row, and fills it from the draft, which stays in the vault until the form is saved or
left on purpose. Resuming and discarding are audited by the service (once, without the
text).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from luna_tui.ui.vault_calls import ServiceFailed

if TYPE_CHECKING:
    from textual.screen import Screen

    from luna_tui.services.drafts import DraftView
    from luna_tui.ui.draft_keeper import OpenDrafts
    from luna_tui.ui.screens.form import FormScreen
    from luna_tui.ui.vault_calls import VaultCalls


class DraftsHost(Protocol):
    """What offering and resuming drafts, and the quit question, need of the App."""

    vault: VaultCalls
    open_drafts: OpenDrafts
    screen: Screen

    async def set_patient(self, patient_id: str) -> None: ...

    def switch_mode(self, mode: str) -> Any: ...

    async def refresh_current_screen(self) -> None: ...

    def push_screen(self, screen: Any, callback: Any = ...) -> Any: ...

    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...
               ) -> None: ...


@dataclass(frozen=True)
class DraftForm:
    """Where a kind of draft is typed: the place it belongs to and its form screen."""

    place: str  # the app's mode, as the number keys name it
    noun: str  # what the form makes, as a person says it
    screen: str  # "module:Class", imported only when a draft of it is resumed

    def screen_class(self) -> type[FormScreen]:
        module, _, name = self.screen.partition(":")
        return getattr(importlib.import_module(module), name)


FORMS = {
    "journal_entry": DraftForm("journal", "journal entry",
                               "luna_tui.ui.screens.entry_editor:EntryEditorScreen"),
    "medication": DraftForm("medications", "medication",
                            "luna_tui.ui.screens.medication_form:MedicationFormScreen"),
    "appointment": DraftForm("appointments", "appointment",
                             "luna_tui.ui.screens.appointment_form:AppointmentFormScreen"),
    "vital": DraftForm("vitals", "vital reading",
                       "luna_tui.ui.screens.vital_form:VitalFormScreen"),
    "record": DraftForm("records", "medical record",
                        "luna_tui.ui.screens.record_form:RecordFormScreen"),
    "entry_template": DraftForm("journal", "entry template",
                                "luna_tui.ui.screens.template_form:TemplateFormScreen"),
    "persona": DraftForm("companion", "companion persona",
                         "luna_tui.ui.screens.persona_form:PersonaFormScreen"),
    "patient": DraftForm("patients", "patient", "luna_tui.ui.screens.patients:PatientFormScreen"),
    "safety_plan_item": DraftForm("plan", "safety plan line",
                                  "luna_tui.ui.screens.plan:PlanItemForm"),
}


def describe(draft: DraftView) -> str:
    """`New journal entry for Me` / `Changes to a medication`: what a draft is."""
    form = FORMS.get(draft.kind)
    noun = form.noun if form else draft.kind.replace("_", " ")
    what = f"Changes to a {noun}" if draft.item_id else f"New {noun}"
    return f"{what} for {draft.patient_name}" if draft.patient_name else what


async def offer_drafts(luna: DraftsHost) -> None:
    """After an unlock: offer the drafts left by a lock, a quit or a crash."""
    from luna_tui.services.drafts import Drafts

    session = luna.vault.session
    if session is None or session.read_only:
        return  # a read-only key has no drafts
    try:
        drafts = await luna.vault.call(Drafts(session).pending)
    except ServiceFailed:
        return
    if not drafts:
        return
    from luna_tui.ui.screens.draft_dialogs import DraftsDialog

    async def chosen(draft: DraftView | None) -> None:
        if draft is not None:
            await resume_draft(luna, draft)

    await luna.push_screen(DraftsDialog(drafts, describe), chosen)


async def resume_draft(luna: DraftsHost, draft: DraftView) -> None:
    """Open the draft's form on its patient and row, filled from the draft."""
    from luna_tui.services.drafts import Drafts

    form = FORMS.get(draft.kind)
    session = luna.vault.session
    if session is None:
        return
    if form is None:
        luna.notify(f"This draft belongs to a form this Luna does not have ({draft.kind}); "
                    "it is kept.", severity="warning")
        return
    try:
        draft = await luna.vault.call(Drafts(session).resume, draft.id)  # audited, once
        if draft.patient_id and draft.patient_id != luna.vault.patient_id:
            await luna.set_patient(draft.patient_id)
        await luna.switch_mode(form.place)
        screen = await form.screen_class().from_draft(luna.vault, draft)
    except ServiceFailed:
        return  # said; the draft stays for the next unlock
    screen.resume_draft(draft)

    async def closed(saved: object) -> None:
        if saved is not None:
            await luna.refresh_current_screen()

    await luna.push_screen(screen, closed)


async def quit_or_ask(luna: DraftsHost, quit_now: Callable[[], Awaitable[None]]) -> None:
    """ctrl+q: quit at once, or, if a form holds unsaved changes, ask as Escape does —
    keep them as a draft (offered at the next unlock), discard them, or stay."""
    from luna_tui.ui.screens.draft_dialogs import QuitDialog

    if isinstance(luna.screen, QuitDialog):
        return  # asked already: the dialog answers
    changed = luna.open_drafts.changed()
    if not changed:
        await quit_now()
        return

    async def answered(choice: str | None) -> None:
        if choice == QuitDialog.KEEP:
            if not await luna.open_drafts.keep_all(luna.vault.session):
                return  # said why: quitting now would lose what was typed
        elif choice == QuitDialog.DISCARD:
            for keeper in changed:
                await keeper.finish()
        else:
            return
        await quit_now()

    nouns = [FORMS[k.kind].noun if k.kind in FORMS else k.kind for k in changed]
    await luna.push_screen(QuitDialog(nouns), answered)
