"""The safety plan's services: its sections and items, the phrases that open it, the
triggers and their settings, the one-time explanations, the crisis card on disk, what
the AI companion may see of it, and that nothing of it leaves the machine or reaches a
notification."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path

import pytest
from ai_server import FakeModel
from test_no_plaintext_on_disk import files_containing

from luna_tui.errors import NotFound, ReadOnlyKey, ValidationError
from luna_tui.services.ai.context import ContextBuilder
from luna_tui.services.ai.sending import Sender
from luna_tui.services.ai.sessions import ChatSessions
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.safety import crisis_card
from luna_tui.services.safety.phrases import DEFAULT_PHRASES, first_match, folded
from luna_tui.services.safety.plan import SECTION_KEYS, SafetyPlans
from luna_tui.services.safety.triggers import EXPLANATIONS, SafetyTriggers
from luna_tui.services.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
ASK = "Sam (my sister) 07700 900123"
LINE = "Crisis line I chose: 0800 555 0199"
NOT_CHOSEN = "Zorblax-7 neighbour who keeps a spare key"
REASON = "Qwibble my cat needs me"


@pytest.fixture
def me(session) -> str:
    return Settings(session).current_patient_id()


@pytest.fixture
def plans(session) -> SafetyPlans:
    return SafetyPlans(session)


def entry(session, me: str, text: str = "An ordinary day.", **values) -> str:
    return Journal(session).create(me, EntryDraft(content=text, **values)).id


def day(clock, days_ago: int) -> str:
    return (clock.today() - dt.timedelta(days=days_ago)).isoformat()


# -- the plan ----------------------------------------------------------------------------------

def test_the_plan_has_the_seven_sections_in_stanley_and_brown_order(session, me, plans):
    assert SECTION_KEYS == ("warning_signs", "coping_strategies", "distractions",
                            "people_to_ask", "professionals", "safe_environment",
                            "reasons_for_living")
    plan = plans.get(me)
    assert list(plan.items) == list(SECTION_KEYS) and plan.empty
    assert plan.phrases == DEFAULT_PHRASES and plan.default_phrases


def test_items_are_added_in_order_changed_and_deleted(session, me, plans):
    first = plans.add_item(me, "coping_strategies", "  Walk   round the block ")
    second = plans.add_item(me, "coping_strategies", "Cold water on my face")
    assert [i.text for i in plans.get(me).items["coping_strategies"]] == [
        "Walk round the block", "Cold water on my face"]
    plans.change_item(first.id, "Walk to the river")
    plans.delete_item(second.id)
    assert [i.text for i in plans.get(me).items["coping_strategies"]] == ["Walk to the river"]
    with pytest.raises(NotFound):
        plans.delete_item(second.id)


@pytest.mark.parametrize(("section", "text", "words"), [
    ("reasons_for_living", "   ", "Write something"),
    ("reasons_for_living", "x" * 301, "at most 300"),
    ("reasons_for_living", "bell\x07", "control character"),
    ("nowhere", "text", "no section"),
])
def test_a_bad_item_is_a_sentence(session, me, plans, section, text, words):
    with pytest.raises(ValidationError, match=words):
        plans.add_item(me, section, text)


def test_the_plan_is_audited_without_its_words(session, me, plans):
    from luna_tui.store.models.audit import AuditEvent

    plans.add_item(me, "reasons_for_living", REASON)
    diffs = session.run(lambda: [e.diff for e in AuditEvent.select().where(
        AuditEvent.event_name.startswith("safety_plan."))])
    assert diffs and not any(REASON in (d or "") for d in diffs)


def test_a_read_only_key_reads_the_plan_but_cannot_change_it(layout, session, me, plans):
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.services.vault_session import VaultSession

    plans.add_item(me, "reasons_for_living", REASON)
    access = KeyAdmin(session).add_key("Dr Rivera", read_only=True)
    session.close()
    with VaultSession.open(layout, access.generated_secret) as reader:
        assert [i.text for i in SafetyPlans(reader).get(me).items["reasons_for_living"]] == [
            REASON]
        with pytest.raises(ReadOnlyKey):
            SafetyPlans(reader).add_item(me, "warning_signs", "Not sleeping")
        # A read-only key can't write down that a trigger was explained: it explains again.
        assert SafetyTriggers(reader).asked().explanation == EXPLANATIONS["key"]
        assert SafetyTriggers(reader).asked().explanation == EXPLANATIONS["key"]


# -- phrases ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "phrase"), [
    ("Some days I WANT TO DIE.", "want to die"),
    ("i cant go on like this", "can't go on"),  # apostrophes either way
    ("I can’t go on", "can't go on"),
    ("thinking of self harm again", "self-harm"),  # a hyphen or a space
    ("Je pense au suicide", "suicide"),
    ("SUICIDÉ", "suicide"),  # accents folded
    ("I just want to\n die", "want to die"),  # across a line break
])
def test_phrases_match_whatever_the_case_accents_or_spacing(text, phrase):
    assert first_match(text, DEFAULT_PHRASES) == phrase


@pytest.mark.parametrize("text", [
    "Suicides in the news today",  # another word
    "I wanted to diet this week",
    "overkill myselfie",
    "A quiet, ordinary day.",
])
def test_phrases_match_only_whole_words(text):
    assert first_match(text, DEFAULT_PHRASES) is None


def test_folding_is_what_the_readme_says():
    assert folded("  Ça   NE-va pas’ ") == "ca ne va pas"


def test_the_readme_lists_the_default_phrases_exactly():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Safety plan"):]
    section = section[:section.index("\n## ", 4)]
    listed = re.findall(r"^- `([^`]+)`$", section[section.index("Default phrases"):],
                        re.MULTILINE)
    assert tuple(listed) == DEFAULT_PHRASES


def test_a_person_edits_their_own_phrases(session, me, plans):
    plans.add_phrase(me, "the bridge again")
    assert plans.get(me).phrases == (*DEFAULT_PHRASES, "the bridge again")
    assert not plans.get(me).default_phrases
    index = list(plans.phrases(me)).index("suicide")
    plans.delete_phrase(me, index)
    plans.change_phrase(me, 0, "want to disappear")
    phrases = plans.phrases(me)
    assert "suicide" not in phrases and phrases[0] == "want to disappear"
    triggers = SafetyTriggers(session)
    assert triggers.fired_by_entry(entry(session, me, "The bridge again today")).trigger == (
        "phrase")
    assert triggers.fired_by_entry(entry(session, me, "Read about suicide")) is None


# -- triggers -----------------------------------------------------------------------------------

def test_a_phrase_in_the_text_or_the_title_fires(session, me):
    triggers = SafetyTriggers(session)
    assert triggers.fired_by_entry(entry(session, me, "Nothing much.")) is None
    assert triggers.fired_by_entry(entry(session, me, "I feel like I'm a burden to "
                                                       "everyone")).trigger == "phrase"
    assert triggers.fired_by_entry(entry(session, me, "…", title="No way out")).trigger == (
        "phrase")


def test_turning_the_phrase_trigger_off_stops_it(session, me):
    Settings(session).set("safety.phrase_trigger", "off")
    assert SafetyTriggers(session).fired_by_entry(entry(session, me, "I want to die")) is None


@pytest.mark.dates
def test_a_drop_in_mood_fires_against_the_best_day_of_the_days_before(session, me, clock):
    triggers = SafetyTriggers(session)
    entry(session, me, mood_scale=6, entry_date=day(clock, 8))  # outside the 7 days
    entry(session, me, mood_scale=9, entry_date=day(clock, 8))
    entry(session, me, mood_scale=7, entry_date=day(clock, 3))
    entry(session, me, mood_scale=5, entry_date=day(clock, 3))  # that day: 6 on average
    entry(session, me, mood_scale=4, entry_date=day(clock, 1))
    assert triggers.fired_by_entry(entry(session, me, mood_scale=4)) is None  # 6 - 4 = 2
    fired = triggers.fired_by_entry(entry(session, me, mood_scale=3))  # 6 - 3 = 3
    assert (fired.trigger, fired.drop, fired.days) == ("mood_drop", 3, 7)
    assert triggers.fired_by_entry(entry(session, me, "no mood today")) is None


def test_the_mood_drop_settings_change_what_fires(session, me, clock):
    triggers = SafetyTriggers(session)
    entry(session, me, mood_scale=8, entry_date=day(clock, 10))
    assert triggers.fired_by_entry(entry(session, me, mood_scale=3)) is None  # 10 days ago
    Settings(session).set("safety.mood_drop_days", 14)
    assert triggers.fired_by_entry(entry(session, me, mood_scale=3)).drop == 5
    Settings(session).set("safety.mood_drop_points", 6)
    assert triggers.fired_by_entry(entry(session, me, mood_scale=3)) is None
    Settings(session).set("safety.mood_drop_points", 5)
    Settings(session).set("safety.mood_drop_trigger", "off")
    assert triggers.fired_by_entry(entry(session, me, mood_scale=3)) is None


def test_another_patients_moods_are_not_compared(session, me, clock):
    from luna_tui.services.patients import Patients

    mum = Patients(session).create("Mum").id
    entry(session, mum, mood_scale=9, entry_date=day(clock, 2))
    assert SafetyTriggers(session).fired_by_entry(entry(session, me, mood_scale=2)) is None


def test_each_trigger_is_explained_once(session, me, clock):
    triggers = SafetyTriggers(session)
    first = triggers.after_entry(entry(session, me, "I want to die"))
    assert (first.trigger, first.explanation) == ("phrase", EXPLANATIONS["phrase"])
    assert triggers.after_entry(entry(session, me, "I want to die")).explanation is None
    assert triggers.asked().explanation == EXPLANATIONS["key"]
    assert triggers.asked().explanation is None
    entry(session, me, mood_scale=9, entry_date=day(clock, 1))
    dropped = triggers.after_entry(entry(session, me, mood_scale=2))
    assert dropped.trigger == "mood_drop" and "7 points below" in dropped.explanation
    assert triggers.after_entry(entry(session, me, mood_scale=2)).explanation is None


def test_turning_the_key_off_stops_it(session):
    Settings(session).set("safety.plan_key", "off")
    assert SafetyTriggers(session).asked() is None


def test_the_safety_settings_are_off_or_on_as_documented(session):
    settings = Settings(session)
    assert [settings.get(f"safety.{name}") for name in (
        "plan_key", "phrase_trigger", "mood_drop_trigger", "mood_drop_points",
        "mood_drop_days", "share_with_ai")] == [True, True, True, 3, 7, False]


# -- the crisis card ---------------------------------------------------------------------------

def card_with(plans: SafetyPlans, me: str) -> tuple[str, str, str]:
    ask = plans.add_item(me, "people_to_ask", ASK).id
    line = plans.add_item(me, "professionals", LINE).id
    other = plans.add_item(me, "people_to_ask", NOT_CHOSEN).id
    plans.add_item(me, "reasons_for_living", REASON)
    return ask, line, other


def test_the_card_holds_only_what_was_chosen_in_a_private_file(layout, session, me, plans):
    ask, line, _ = card_with(plans, me)
    assert not crisis_card.card_path(layout.home).exists()  # opt-in: nothing until chosen
    assert plans.set_card(me, {ask, line}) == (LINE, ASK)  # crisis contacts first
    path = crisis_card.card_path(layout.home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {"format": "luna-crisis-card", "version": 1, "lines": [
        {"section": "Professionals or agencies to contact in a crisis", "text": LINE},
        {"section": "People I can ask for help", "text": ASK}]}
    assert [(card.section, card.text) for card in crisis_card.read(layout.home)] == [
        ("Professionals or agencies to contact in a crisis", LINE),
        ("People I can ask for help", ASK)]


def test_an_item_not_chosen_never_reaches_the_disk(layout, session, me, plans):
    ask, _, _ = card_with(plans, me)
    plans.set_card(me, {ask})
    from luna_tui.store.models.base import database

    session.run(lambda: database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert files_containing(layout.home, "Zorblax-7") == []
    assert files_containing(layout.home, "Qwibble") == []
    assert files_containing(layout.home, "07700 900123") == ["crisis-card.json"]
    session.close()
    assert files_containing(layout.home, "Zorblax-7") == []


def test_the_card_follows_its_items_and_off_deletes_it(layout, session, me, plans):
    ask, line, _ = card_with(plans, me)
    plans.set_card(me, {ask, line})
    plans.change_item(ask, "Sam 07700 900999")
    assert [c.text for c in crisis_card.read(layout.home)] == [LINE, "Sam 07700 900999"]
    plans.delete_item(line)
    assert [c.text for c in crisis_card.read(layout.home)] == ["Sam 07700 900999"]
    assert plans.set_card(me, set()) == ()
    assert not crisis_card.card_path(layout.home).exists()
    assert not any(i.on_card for s in plans.get(me).items.values() for i in s)


def test_deleting_a_patient_takes_their_lines_off_the_card(layout, session, me, plans):
    from luna_tui.services.patients import Patients

    mum = Patients(session).create("Mum").id
    mine = plans.add_item(me, "people_to_ask", ASK).id
    theirs = plans.add_item(mum, "professionals", LINE).id
    plans.set_card(me, {mine})
    plans.set_card(mum, {theirs})
    assert [c.text for c in crisis_card.read(layout.home)] == [ASK, LINE]
    Patients(session).delete(mum)
    assert [c.text for c in crisis_card.read(layout.home)] == [ASK]
    plans.set_card(me, set())
    assert crisis_card.read(layout.home) is None


def test_only_people_and_crisis_contacts_can_go_on_the_card(session, me, plans):
    reason = plans.add_item(me, "reasons_for_living", REASON).id
    with pytest.raises(ValidationError, match="Only the people"):
        plans.set_card(me, {reason})


def test_a_damaged_card_is_a_sentence(layout, session):
    crisis_card.card_path(layout.home).write_text("{not json", encoding="utf-8")
    from luna_tui.errors import LunaError

    with pytest.raises(LunaError, match="could not be read"):
        crisis_card.read(layout.home)


# -- the AI companion ----------------------------------------------------------------------

@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


@pytest.fixture
def ai(session, model: FakeModel) -> FakeModel:
    settings = Settings(session)
    settings.set("ai.base_url", model.base_url)
    settings.set("ai.model", "tiny")
    settings.set("ai.timeout_seconds", 5)
    return model


def test_the_companion_never_sees_the_plan_unless_allowed(session, me, plans, ai):
    card_with(plans, me)
    chats, sender = ChatSessions(session), Sender(session)
    convo = chats.create(me)
    sender.send(convo.id, "How am I doing?")
    sent = json.dumps(ai.last)
    assert ai.requests and REASON not in sent and ASK not in sent and NOT_CHOSEN not in sent
    assert "safety plan" not in sent.lower()

    Settings(session).set("safety.share_with_ai", "on")
    sender.send(convo.id, "And now?")
    system = ai.last["messages"][0]["content"]
    assert f'- "{REASON}"' in system and NOT_CHOSEN in system
    assert "### Reasons for living" in system
    assert "safety_plan" in ContextBuilder(session).build(convo.id).kinds


def test_with_sharing_off_the_builder_cannot_even_read_the_plan(session, me, plans):
    from luna_tui.errors import ReadOnlyViolation
    from luna_tui.services.ai import context

    plans.add_item(me, "reasons_for_living", REASON)
    convo = ChatSessions(session).create(me)
    original = context.ContextBuilder._sections

    def sneaky(self, chat, allowed, today):  # noqa: ANN001, ANN202
        SafetyPlans(self.session).get(chat.patient_id)  # a reader that forgot the setting
        return original(self, chat, allowed, today)

    context.ContextBuilder._sections = sneaky
    try:
        with pytest.raises(ReadOnlyViolation, match="may never see"):
            ContextBuilder(session).build(convo.id)
    finally:
        context.ContextBuilder._sections = original


def test_triggers_send_nothing_anywhere(session, me, clock, plans, ai):
    plans.add_item(me, "people_to_ask", ASK)
    triggers = SafetyTriggers(session)
    entry(session, me, mood_scale=9, entry_date=day(clock, 1))
    assert triggers.after_entry(entry(session, me, "I want to die", mood_scale=2))
    assert triggers.after_entry(entry(session, me, "Low.", mood_scale=2)).trigger == (
        "mood_drop")
    assert triggers.asked()
    assert ai.requests == [] and ai.gets == []


# -- notifications ---------------------------------------------------------------------------

def test_notifications_never_mention_the_plan(session, me, clock, plans):
    from luna_tui.services.appointments import Appointments
    from luna_tui.services.medications import Medications
    from luna_tui.services.reminders import ReminderScheduler

    card_with(plans, me)
    entry(session, me, "I want to die", mood_scale=2)
    Settings(session).set("reminders.show_details", "on")  # the most a notification says
    clock.set_local(clock.today(), "10:00")
    Medications(session).create(me, "Sertraline", "50 mg", "once daily", schedule="10:00",
                                start_date=clock.today().isoformat())
    tomorrow = clock.today() + dt.timedelta(days=1)
    Appointments(session).create(me, appointment_date=tomorrow.isoformat(),
                                 appointment_time="10:00", provider_name="Dr Rivera",
                                 preparation_notes="bring the list")
    notices = ReminderScheduler(session).due()
    assert {n.kind for n in notices} == {"doses", "appointment"}  # the check can fail
    plan_words = ["safety", "plan", "crisis", ASK, LINE, NOT_CHOSEN, REASON,
                  *DEFAULT_PHRASES]
    for notice in notices:
        text = notice.text.lower()
        assert not [word for word in plan_words if word.lower() in text], notice.text
