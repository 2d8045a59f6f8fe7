"""A patient's safety plan: short items under the seven sections of the Stanley–Brown
Safety Planning Intervention (Stanley & Brown, 2012), in that order, and the phrases
that open it.

Luna ships no phone numbers: the crisis lines and professionals are the ones the person
writes in. Every change is audited without its words (the audit log keeps rows forever).
Items chosen for the crisis card are written out to it again whenever they change
(crisis_card.py), so the card never shows an item as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Case, fn

from luna_tui.errors import NotFound, ValidationError
from luna_tui.services.base import DomainService, audit_diff, new_id, on_db_thread
from luna_tui.services.safety import crisis_card
from luna_tui.services.safety.phrases import DEFAULT_PHRASES, MAX_PHRASE, MAX_PHRASES
from luna_tui.services.validation import refuse_controls
from luna_tui.store.models.patients import Patient, owner_first
from luna_tui.store.models.safety_plan import SafetyPlan, SafetyPlanItem

# (key, heading, what goes there), in the plan's order.
SECTIONS = (
    ("warning_signs", "Warning signs",
     "Thoughts, moods, situations or behaviours that tell me a crisis may be coming"),
    ("coping_strategies", "Internal coping strategies",
     "Things I can do on my own to take my mind off my problems"),
    ("distractions", "People and social settings that provide distraction",
     "People and places that help me think of something else"),
    ("people_to_ask", "People I can ask for help",
     "Who I can call or see, and how to reach them"),
    ("professionals", "Professionals or agencies to contact in a crisis",
     "My clinicians, a crisis line, an emergency number: the ones I write here"),
    ("safe_environment", "Making the environment safe",
     "What I can do to keep myself safe where I am"),
    ("reasons_for_living", "Reasons for living",
     "What matters most to me and is worth living for"),
)
SECTION_KEYS = tuple(key for key, _, _ in SECTIONS)
HEADINGS = {key: heading for key, heading, _ in SECTIONS}
# The sections a crisis card may take items from: whom to reach, nothing else.
CARD_SECTIONS = ("people_to_ask", "professionals")
MAX_ITEM = 300


@dataclass(frozen=True)
class PlanItem:
    id: str
    section: str
    position: int
    text: str
    on_card: bool


@dataclass(frozen=True)
class PlanView:
    patient_id: str
    items: dict[str, tuple[PlanItem, ...]]  # every section, in SECTIONS' order
    phrases: tuple[str, ...]
    default_phrases: bool  # the person has not changed Luna's list

    @property
    def empty(self) -> bool:
        return not any(self.items.values())

    @property
    def card_items(self) -> tuple[PlanItem, ...]:
        return tuple(item for key in CARD_SECTIONS for item in self.items[key]
                     if item.on_card)


def _view(row: SafetyPlanItem) -> PlanItem:
    return PlanItem(id=row.id, section=row.section, position=row.position, text=row.text,
                    on_card=bool(row.on_card))


def _item_text(value: object) -> str:
    text = " ".join(str(value or "").split())
    refuse_controls({"text": text})
    if not text:
        raise ValidationError("Write something for this item, or leave without saving.",
                              "text")
    if len(text) > MAX_ITEM:
        raise ValidationError(f"An item is at most {MAX_ITEM} characters; this one is "
                              f"{len(text)}. Split it into two.", "text")
    return text


def _phrase(value: object) -> str:
    text = " ".join(str(value or "").split())
    refuse_controls({"text": text})
    if not text:
        raise ValidationError("Write a phrase, or leave without saving.", "text")
    if len(text) > MAX_PHRASE:
        raise ValidationError(f"A phrase is at most {MAX_PHRASE} characters.", "text")
    return text


# On the card, each patient's lines together (the owner's first), the crisis contacts
# before the people.
_CARD_ORDER = Case(SafetyPlanItem.section, (("professionals", 0),), 1)


class SafetyPlans(DomainService):
    # -- reading ------------------------------------------------------------------------

    @on_db_thread
    def get(self, patient_id: str) -> PlanView:
        self._require_patient(patient_id)
        rows = (SafetyPlanItem.select().where(SafetyPlanItem.patient == patient_id)
                .order_by(SafetyPlanItem.position, SafetyPlanItem.created_at))
        items: dict[str, list[PlanItem]] = {key: [] for key in SECTION_KEYS}
        for row in rows:
            items[row.section].append(_view(row))
        own = SafetyPlan.get_or_none(SafetyPlan.patient == patient_id)
        return PlanView(patient_id, {k: tuple(v) for k, v in items.items()},
                        tuple(own.phrases) if own else DEFAULT_PHRASES, own is None)

    @on_db_thread
    def phrases(self, patient_id: str) -> tuple[str, ...]:
        own = SafetyPlan.get_or_none(SafetyPlan.patient == patient_id)
        return tuple(own.phrases) if own else DEFAULT_PHRASES

    # -- items --------------------------------------------------------------------------

    @on_db_thread
    def add_item(self, patient_id: str, section: str, text: object) -> PlanItem:
        self._require_patient(patient_id)
        if section not in SECTION_KEYS:
            raise ValidationError(f"A safety plan has no section '{section}'.", "section")
        text = _item_text(text)
        stamp = self.stamp()
        with self.session.writing("change the safety plan") as tx:
            last = (SafetyPlanItem.select(fn.MAX(SafetyPlanItem.position))
                    .where(SafetyPlanItem.patient == patient_id,
                           SafetyPlanItem.section == section).scalar())
            row = SafetyPlanItem.create(id=new_id(), patient=patient_id, section=section,
                                        position=(last or 0) + 1, text=text, on_card=0,
                                        created_at=stamp, updated_at=stamp)
            tx.record("safety_plan.add", row.id,
                      audit_diff(None, {"section": section, "text": text},
                                 frozenset({"text"})))
        return _view(row)

    @on_db_thread
    def change_item(self, item_id: str, text: object) -> PlanItem:
        row = self._row(item_id)
        text = _item_text(text)
        if text == row.text:
            return _view(row)
        with self.session.writing("change the safety plan") as tx:
            SafetyPlanItem.update(text=text, updated_at=self.stamp()).where(
                SafetyPlanItem.id == item_id).execute()
            tx.record("safety_plan.update", item_id,
                      audit_diff({"text": row.text}, {"text": text}, frozenset({"text"})))
        if row.on_card:
            self.rewrite_card()
        return _view(self._row(item_id))

    @on_db_thread
    def delete_item(self, item_id: str) -> None:
        row = self._row(item_id)
        with self.session.writing("change the safety plan") as tx:
            SafetyPlanItem.delete().where(SafetyPlanItem.id == item_id).execute()
            tx.record("safety_plan.delete", item_id,
                      audit_diff({"section": row.section, "text": row.text}, None,
                                 frozenset({"text"})))
        if row.on_card:
            self.rewrite_card()

    # -- phrases ------------------------------------------------------------------------

    @on_db_thread
    def add_phrase(self, patient_id: str, text: object) -> tuple[str, ...]:
        phrases = list(self.phrases(patient_id))
        phrases.append(_phrase(text))
        return self._set_phrases(patient_id, phrases)

    @on_db_thread
    def change_phrase(self, patient_id: str, index: int, text: object) -> tuple[str, ...]:
        phrases = list(self.phrases(patient_id))
        self._require_index(phrases, index)
        phrases[index] = _phrase(text)
        return self._set_phrases(patient_id, phrases)

    @on_db_thread
    def delete_phrase(self, patient_id: str, index: int) -> tuple[str, ...]:
        phrases = list(self.phrases(patient_id))
        self._require_index(phrases, index)
        del phrases[index]
        return self._set_phrases(patient_id, phrases)

    def _set_phrases(self, patient_id: str, phrases: list[str]) -> tuple[str, ...]:
        self._require_patient(patient_id)
        unique = list(dict.fromkeys(phrases))
        if len(unique) > MAX_PHRASES:
            raise ValidationError(f"A plan holds at most {MAX_PHRASES} phrases.", "text")
        stamp = self.stamp()
        with self.session.writing("change the safety plan") as tx:
            if SafetyPlan.get_or_none(SafetyPlan.patient == patient_id) is None:
                SafetyPlan.create(patient=patient_id, phrases=unique, created_at=stamp,
                                  updated_at=stamp)
            else:
                SafetyPlan.update(phrases=unique, updated_at=stamp).where(
                    SafetyPlan.patient == patient_id).execute()
            tx.record("safety_plan.phrases", patient_id, {"phrases": [None, len(unique)]})
        return tuple(unique)

    # -- the crisis card ----------------------------------------------------------------

    @on_db_thread
    def set_card(self, patient_id: str, chosen: set[str]) -> tuple[str, ...]:
        """Put exactly the `chosen` items of this patient's plan (from CARD_SECTIONS) on
        the crisis card, and write the card again; with nothing chosen in the whole
        vault the card file is deleted. Returns the card's lines."""
        self._require_patient(patient_id)
        candidates = {row.id for row in SafetyPlanItem.select(SafetyPlanItem.id).where(
            SafetyPlanItem.patient == patient_id,
            SafetyPlanItem.section.in_(CARD_SECTIONS))}
        unknown = set(chosen) - candidates
        if unknown:
            raise ValidationError("Only the people and the crisis contacts of this plan can "
                                  "go on the crisis card.")
        with self.session.writing("change the crisis card") as tx:
            SafetyPlanItem.update(on_card=SafetyPlanItem.id.in_(list(chosen) or [""])).where(
                SafetyPlanItem.id.in_(list(candidates) or [""])).execute()
            tx.record("safety_plan.card", patient_id, {"on_card": [None, len(chosen)]})
        return self.rewrite_card()

    @on_db_thread
    def rewrite_card(self) -> tuple[str, ...]:
        """Write the card file as the vault's chosen items are now (none: delete it), and
        return its lines: after a chosen item changed, or went with its patient."""
        rows = (SafetyPlanItem.select(SafetyPlanItem.section, SafetyPlanItem.text)
                .join(Patient)
                .where(SafetyPlanItem.on_card == 1)
                .order_by(owner_first(), Patient.created_at, Patient.id, _CARD_ORDER,
                          SafetyPlanItem.position))
        lines = [crisis_card.CardLine(HEADINGS[row.section], row.text) for row in rows]
        if lines:
            crisis_card.write(self.session.layout.home, lines)
        else:
            crisis_card.delete(self.session.layout.home)
        return tuple(line.text for line in lines)

    # -- helpers ------------------------------------------------------------------------

    def _row(self, item_id: str) -> SafetyPlanItem:
        row = SafetyPlanItem.get_or_none(SafetyPlanItem.id == item_id)
        if row is None:
            raise NotFound("That item is no longer in the safety plan.")
        return row

    @staticmethod
    def _require_patient(patient_id: str) -> None:
        if not Patient.select().where(Patient.id == patient_id).exists():
            raise NotFound("That patient is no longer in this vault.")

    @staticmethod
    def _require_index(phrases: list[str], index: int) -> None:
        if not 0 <= index < len(phrases):
            raise NotFound("That phrase is no longer in the list.")
