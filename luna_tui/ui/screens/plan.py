"""The safety plan: the seven sections of Stanley & Brown's plan, in order, each a list
of short items the person writes, then the phrases that open the plan from a saved
entry. Calm on purpose: one column, plain words, no colours that alarm.

It is usually shown over whatever was on screen (the plan key, f1, from anywhere; or a
trigger after an entry is saved): escape takes the person back to exactly where they
were, what they were typing untouched. n adds to the section under the cursor, e or
Enter changes an item, x deletes one (asking first), c chooses what goes on the crisis
card. Nothing here contacts anyone or sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label

from luna_tui.services.safety.plan import CARD_SECTIONS, HEADINGS, SECTIONS, SafetyPlans
from luna_tui.ui.plain_text import plain
from luna_tui.ui.screens.dialogs import ConfirmDialog
from luna_tui.ui.screens.form import FormScreen
from luna_tui.ui.screens.place import PlaceScreen
from luna_tui.ui.vault_calls import ServiceFailed, UsesVault
from luna_tui.ui.widgets.field import Field, FieldColumn
from luna_tui.ui.widgets.footer import KeysFooter
from luna_tui.ui.widgets.list_table import ListTable
from luna_tui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from luna_tui.services.drafts import DraftView
    from luna_tui.services.safety.plan import PlanItem, PlanView
    from luna_tui.ui.vault_calls import VaultCalls

PHRASES = "phrases"  # the list after the seven sections
PHRASES_HEADING = "Phrases that open this plan when an entry you save holds one"
PHRASES_HINT = ("Matched as whole words, whatever the case or accents; "
                "Settings (safety.phrase_trigger) turns this off")
HINTS = {key: hint for key, _, hint in SECTIONS}
WRITE_ACTIONS = {"new": "change the safety plan", "edit": "change the safety plan",
                 "delete": "change the safety plan", "card": "change the crisis card"}
CARD_WARNING = (
    "The crisis card is NOT encrypted: anyone who can read the files in your Luna folder "
    "can read it WITHOUT your passphrase. Your plan stays encrypted; the card holds only "
    "the lines you tick here, so that f1 shows them on the unlock screen (and `luna plan "
    "--card` in a terminal) before you unlock. Tick nothing and save to turn it off: its "
    "file is deleted.")


@dataclass(frozen=True)
class Slot:
    """What one row of the plan's table is: a section's heading (or its empty line), an
    item, or a phrase."""

    section: str  # a key of SECTIONS, or PHRASES
    item: PlanItem | None = None
    phrase_index: int | None = None
    phrase: str = ""


class PlanScreen(PlaceScreen):
    CSS_PATH = "plan.tcss"
    # Marks the plan's own screens: the plan key does nothing more while one is on top.
    SAFETY_PLAN = True
    READ_ONLY_REFUSES = WRITE_ACTIONS
    BINDINGS = [
        Binding("n", "new", "Add", id="plan.new"),
        Binding("e", "edit", "Edit", id="plan.edit"),
        Binding("x", "delete", "Delete", id="plan.delete"),
        Binding("c", "card", "Crisis card", id="plan.card"),
        Binding("escape", "close", "Back", id="plan.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.explanation: str | None = None
        self.plan: PlanView | None = None
        self.slots: dict[str, Slot] = {}

    def explain(self, explanation: str | None) -> None:
        """Before it is shown: the words that say why it opened, the first time."""
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        yield TopBar("Safety plan")
        yield Label(plain(self.explanation or ""), id="plan-explanation")
        yield Label("One step at a time. Only you see this: Luna never contacts anyone. "
                    "Escape goes back.", id="plan-hint", classes="muted")
        yield ListTable(id="plan")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#plan-explanation", Label).display = bool(self.explanation)
        table = self.query_one("#plan", DataTable)
        table.add_column("", key="number")
        table.add_column("", key="text", width=self._text_width())

    def _text_width(self) -> int:
        """The plan's words wrap inside the screen, never run off an 80-column one: a
        step cut short is no help in a hard moment. (The number column, the cells'
        padding and the scroll bar take the rest.)"""
        return max(20, self.app.size.width - 12)

    def on_resize(self) -> None:
        column = self.query_one("#plan", DataTable).columns.get("text")  # type: ignore[call-overload]
        if column is not None and column.width != self._text_width() and self.plan is not None:
            column.width = self._text_width()
            self._fill(self.plan)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.vault.read_only:
            return None
        return True

    async def refresh_data(self) -> None:
        patient = self.vault.patient_id
        if patient is None:
            return
        try:
            self.plan = await self.vault.call(SafetyPlans(self.session).get, patient)
        except ServiceFailed:
            return
        self._fill(self.plan)

    def _fill(self, plan: PlanView) -> None:
        table = self.query_one("#plan", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.slots = {}
        for number, (key, heading, hint) in enumerate(SECTIONS, start=1):
            self._heading(table, key, f"{number}.", heading)
            for item in plan.items[key]:
                marker = "  (on the crisis card)" if item.on_card else ""
                self._row(table, f"item:{item.id}", Slot(key, item=item), "",
                          plain(f"• {item.text}") + Text(marker, style="dim"))
            if not plan.items[key]:
                self._row(table, f"empty:{key}", Slot(key), "",
                          Text(f"{hint} (n adds one)", style="dim italic"))
        self._heading(table, PHRASES, "", PHRASES_HEADING)
        self._row(table, "empty:phrases", Slot(PHRASES), "",
                  Text(PHRASES_HINT + (" (Luna's list)" if plan.default_phrases else ""),
                       style="dim italic"))
        for index, phrase in enumerate(plan.phrases):
            self._row(table, f"phrase:{index}", Slot(PHRASES, phrase_index=index,
                                                     phrase=phrase), "", plain(f"• {phrase}"))
        table.move_cursor(row=min(cursor, table.row_count - 1))

    def _heading(self, table: DataTable, key: str, number: str, heading: str) -> None:
        self._row(table, f"section:{key}", Slot(key), Text(number, style="bold"),
                  Text(heading, style="bold"))

    def _row(self, table: DataTable, key: str, slot: Slot, first: Any, second: Any) -> None:
        self.slots[key] = slot
        table.add_row(first, second, key=key, height=None)  # as many lines as its words

    def _selected(self) -> Slot | None:
        table = self.query_one("#plan", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.slots.get(str(key.value))

    # -- actions --------------------------------------------------------------------------

    async def action_close(self) -> None:
        """Back to where the person was; on its own (a draft resumed), to the dashboard."""
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)
        else:
            await self.app.run_action("go('dashboard')")

    async def action_new(self) -> None:
        slot = self._selected()
        if slot is not None and self.vault.writable(WRITE_ACTIONS["new"]):
            await self.push_own(PlanItemForm(Slot(slot.section)), self._after_form)

    async def action_edit(self) -> None:
        slot = self._selected()
        if slot is None or not self.vault.writable(WRITE_ACTIONS["edit"]):
            return
        if slot.item is None and slot.phrase_index is None:
            slot = Slot(slot.section)  # a heading: Enter or e adds to its section
        await self.push_own(PlanItemForm(slot), self._after_form)

    @on(DataTable.RowSelected, "#plan")
    async def _row_chosen(self) -> None:
        await self.action_edit()

    async def _after_form(self, saved: object) -> None:
        if saved is not None:
            await self.refresh_data()

    async def action_delete(self) -> None:
        slot = self._selected()
        if slot is None or (slot.item is None and slot.phrase_index is None):
            return
        if not self.vault.writable(WRITE_ACTIONS["delete"]):
            return
        what = slot.item.text if slot.item else slot.phrase
        card = " It is on the crisis card too, and leaves it." if (
            slot.item and slot.item.on_card) else ""

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            plans = SafetyPlans(self.session)
            try:
                if slot.item is not None:
                    await self.vault.call(plans.delete_item, slot.item.id)
                else:
                    await self.vault.call(plans.delete_phrase, self.vault.patient_id,
                                          slot.phrase_index)
            except ServiceFailed:
                return
            await self.refresh_data()

        await self.app.push_screen(ConfirmDialog(
            f"Delete “{what}” from your plan?", card.strip(), "Delete"), answered)

    async def action_card(self) -> None:
        if self.plan is None or not self.vault.writable(WRITE_ACTIONS["card"]):
            return
        candidates = [item for key in CARD_SECTIONS for item in self.plan.items[key]]
        if not candidates:
            self.notify("The crisis card takes only people to ask for help and crisis "
                        "contacts: add one to those sections first.")
            return
        await self.push_own(CrisisCardForm(candidates), self._after_form)


class PlanItemForm(FormScreen[object]):
    """One line of the plan (an item of a section, or a phrase), new or changed."""

    SAFETY_PLAN = True
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="plan_form.save", priority=True),
        Binding("escape", "leave", "Back", id="plan_form.leave"),
    ]
    ACTION = "change the safety plan"
    DRAFT_KIND = "safety_plan_item"
    FIELD_IDS = {"text": "text"}

    def __init__(self, slot: Slot) -> None:
        super().__init__()
        self.slot = slot

    @classmethod
    async def from_draft(cls, vault: VaultCalls, draft: DraftView) -> PlanItemForm:
        section = str(draft.context.get("section", SECTIONS[0][0]))
        index = draft.context.get("phrase_index")
        plan = await vault.call(SafetyPlans(vault.open_session).get, vault.patient_id)
        if section == PHRASES:
            if isinstance(index, int) and 0 <= index < len(plan.phrases):
                return cls(Slot(PHRASES, phrase_index=index, phrase=plan.phrases[index]))
            return cls(Slot(PHRASES))
        item = next((i for i in plan.items.get(section, ()) if i.id == draft.item_id), None)
        return cls(Slot(section if section in HEADINGS else SECTIONS[0][0], item=item))

    def draft_item_id(self) -> str | None:
        return self.slot.item.id if self.slot.item else None

    def draft_context(self) -> dict[str, Any]:
        return {"section": self.slot.section, "phrase_index": self.slot.phrase_index}

    def compose(self) -> ComposeResult:
        slot = self.slot
        phrase = slot.section == PHRASES
        heading = PHRASES_HEADING if phrase else HEADINGS[slot.section]
        hint = PHRASES_HINT if phrase else HINTS[slot.section]
        text = slot.phrase if phrase else (slot.item.text if slot.item else "")
        yield TopBar("Safety plan · " + ("changing" if slot.item or slot.phrase else "adding"))
        with FieldColumn(id="plan-form", classes="form-column"):
            yield Label(heading, classes="heading")
            yield Label(hint, classes="muted")
            # The cursor after the words, not selecting them: changing a line is
            # usually adding to it.
            yield Field("phrase" if phrase else "item", Input(
                text, id="text", compact=True, select_on_focus=False))
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.remember_initial()
        self.query_one("#text", Input).focus()

    def values(self) -> dict[str, Any]:
        return {"text": self.query_one("#text", Input).value}

    async def submit(self, values: dict[str, Any]) -> object:
        plans, slot, patient = SafetyPlans(self.session), self.slot, self.vault.patient_id
        if slot.section == PHRASES:
            if slot.phrase_index is None:
                return await self.vault.attempt(plans.add_phrase, patient, values["text"])
            return await self.vault.attempt(plans.change_phrase, patient, slot.phrase_index,
                                            values["text"])
        if slot.item is None:
            return await self.vault.attempt(plans.add_item, patient, slot.section,
                                            values["text"])
        return await self.vault.attempt(plans.change_item, slot.item.id, values["text"])

    def saved_message(self, saved: object) -> str:
        return "Saved in your plan."

    async def on_input_submitted(self, _: Input.Submitted) -> None:
        await self.action_save()  # one field: Enter saves it, as ctrl+s does


class CrisisCardForm(UsesVault, ModalScreen[object]):
    """Which of the plan's people and crisis contacts go on the crisis card (none: off),
    saying first, plainly, that the card is readable without the passphrase."""

    SAFETY_PLAN = True
    BINDINGS = [
        Binding("ctrl+s,f2", "save", "Save", id="card_form.save", priority=True),
        Binding("escape", "dismiss(None)", "Cancel", id="card_form.cancel"),
    ]

    def __init__(self, candidates: list[PlanItem]) -> None:
        super().__init__()
        self.candidates = candidates

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="card-form"):
            yield Label("Crisis card", classes="heading")
            yield Label(CARD_WARNING, id="card-warning")
            with VerticalScroll(id="card-choices"):
                for item in self.candidates:
                    yield Checkbox(plain(f"{item.text}  ({HEADINGS[item.section]})"),
                                   item.on_card, id=f"card-{item.id}", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (escape)", id="cancel")

    def on_mount(self) -> None:
        self.query(Checkbox).first().focus()

    def chosen(self) -> set[str]:
        return {item.id for item in self.candidates
                if self.query_one(f"#card-{item.id}", Checkbox).value}

    @on(Button.Pressed, "#save")
    async def action_save(self) -> None:
        chosen = self.chosen()
        try:
            lines = await self.vault.call(SafetyPlans(self.vault.open_session).set_card,
                                          self.vault.patient_id, chosen)
        except ServiceFailed:
            return
        if lines:
            self.notify(f"The crisis card holds {len(lines)} line"
                        f"{'' if len(lines) == 1 else 's'}, NOT encrypted; f1 shows it on "
                        "the unlock screen.")
        else:
            self.notify("The crisis card is off: its file is deleted.")
        self.dismiss(lines)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
