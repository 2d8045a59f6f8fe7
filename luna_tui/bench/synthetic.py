"""A synthetic vault of ten years: journal entries, messages, vitals and doses.

Deterministic (seeded), realistic in shape (about 1 KB per entry, moods and tags
that repeat, sessions of a few hundred messages), and built with the same bulk paths
a real import uses.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from luna_tui.clock import local_today
from luna_tui.services.journal import EntryDraft, Journal
from luna_tui.services.vault_session import VaultSession

WORDS = (
    "slept woke tired calm anxious walk knee back pain headache appointment doctor "
    "therapist call friend mother coffee tea rain sun park garden work meeting email "
    "lunch dinner breakfast dose pill morning evening night heavy light better worse "
    "energy focus breath stretch yoga bus train shop kitchen book music film quiet loud "
    "hopeful grateful worried proud sad happy restless steady slow quick cold warm "
    "nausea dizzy appetite sleep dream nap water bread soup fruit vegetables medicine "
    "pharmacy refill blood pressure heart rate scale weight steps stairs laundry plans"
).split()
MOODS = ("calm", "tired", "anxious", "happy", "sad", "hopeful", "irritable", "steady")
TAGS = ("sleep", "knee", "work", "family", "walk", "therapy", "meds", "headache",
        "garden", "friends", "rain", "diet")
# A word in every entry, and one in very few: search's worst and best cases.
COMMON_WORD, RARE_WORD = "today", "zeppelin"
# The companion's sessions the app is timed on (bench/app_timing.py), beside the bulk
# of messages: saved, so they lead the list in this order — a short one the place opens
# on, then the long ones, chosen with ↓. Each ends with its own words (companion_mark).
COMPANION_SESSIONS = (2, 400, 4000)


def companion_mark(count: int) -> str:
    """The last message of the bench's companion session of `count` messages."""
    return f"Last of {count:,} messages."


@dataclass(frozen=True)
class Sizes:
    entries: int = 100_000
    messages: int = 1_000_000
    vitals: int = 50_000
    doses: int = 5_000
    appointments: int = 2_000
    years: int = 10


def _sentences(rng: random.Random, count: int = 3000) -> list[str]:
    sentences = []
    for _ in range(count):
        words = rng.choices(WORDS, k=rng.randint(8, 18))
        sentences.append(" ".join(words).capitalize() + ".")
    return sentences


def journal_drafts(sizes: Sizes, rng: random.Random, today: dt.date) -> Iterator[EntryDraft]:
    sentences = _sentences(rng)
    start = today - dt.timedelta(days=365 * sizes.years)
    span = 365 * sizes.years * 24 * 60
    for index in range(sizes.entries):
        minute = span * index // max(sizes.entries, 1)
        moment = dt.datetime.combine(start, dt.time()) + dt.timedelta(minutes=minute)
        body = " ".join(rng.choices(sentences, k=rng.randint(7, 11)))
        body = f"{COMMON_WORD.capitalize()} {body}"
        if index % 5000 == 0:
            body += f" A {RARE_WORD} flew over the park."
        yield EntryDraft(
            content=body,
            title=None if index % 3 else " ".join(rng.choices(WORDS, k=4)).capitalize(),
            entry_date=moment.date().isoformat(),
            entry_time=moment.strftime("%H:%M"),
            mood=rng.choice(MOODS),
            mood_scale=rng.randint(1, 10),
            sleep_hours=round(rng.uniform(4, 9), 1),
            tags=rng.sample(TAGS, k=rng.randint(0, 3)),
            privacy_level="private" if index % 7 == 0 else "shared",
            favorite=index % 50 == 0,
        )


def build(session: VaultSession, patient_id: str, sizes: Sizes, *, seed: int = 7,
          progress: Callable[[str, float], None] | None = None) -> dict[str, float]:
    """Fill the vault; returns seconds spent per part (the journal part is the bulk
    import the budget measures)."""
    import time

    rng = random.Random(seed)
    timings = {}
    # Made first: the import is what is timed.
    drafts = list(journal_drafts(sizes, rng, local_today(session.clock)))
    started = time.perf_counter()
    Journal(session).import_entries(patient_id, drafts, source="bench")
    timings["journal import"] = time.perf_counter() - started
    del drafts
    if progress:
        progress("journal", timings["journal import"])
    for name, part in (("messages", _messages), ("companion", _companion_sessions),
                       ("vitals", _vitals), ("doses", _doses), ("appointments", _appointments)):
        started = time.perf_counter()
        session.run(part, session, patient_id, sizes, rng)
        timings[name] = time.perf_counter() - started
        if progress:
            progress(name, timings[name])
    return timings


def _messages(session: VaultSession, patient_id: str, sizes: Sizes, rng: random.Random) -> None:
    from luna_tui.store.models.ai import ChatSession, Message

    sentences = _sentences(rng, 500)
    per_session = 400
    stamp = "2026-01-01T00:00:00.000Z"
    with session.writing("build a benchmark vault"):
        sessions = max(1, -(-sizes.messages // per_session))  # ceiling division
        session_ids = [f"bench-session-{i}" for i in range(sessions)]
        ChatSession.insert_many(
            [{"id": sid, "patient": patient_id, "persona": "persona-journal-companion",
              "title": f"Session {i}", "session_type": "chat", "saved": 0,
              "created_at": stamp, "updated_at": stamp} for i, sid in enumerate(session_ids)]
        ).execute()
        batch = []
        for index in range(sizes.messages):
            batch.append((session_ids[index // per_session],
                           "user" if index % 2 == 0 else "assistant",
                           " ".join(rng.choices(sentences, k=2)), stamp, stamp))
            if len(batch) == 10_000:
                Message.insert_many(batch, fields=[Message.session, Message.role,
                                                   Message.content, Message.created_at,
                                                   Message.updated_at]).execute()
                batch = []
        if batch:
            Message.insert_many(batch, fields=[Message.session, Message.role, Message.content,
                                               Message.created_at, Message.updated_at]).execute()


def _companion_sessions(session: VaultSession, patient_id: str, sizes: Sizes,
                        rng: random.Random) -> None:
    """COMPANION_SESSIONS: questions of a sentence or two, replies as a model writes them
    (a paragraph, often a list, a bold word)."""
    from luna_tui.store.models.ai import ChatSession, Message

    sentences = _sentences(rng, 500)
    with session.writing("build a benchmark vault"):
        for order, count in enumerate(COMPANION_SESSIONS):
            # The newest first among saved sessions: the short one, then longer ones.
            stamp = f"2026-01-0{9 - order}T00:00:00.000Z"
            session_id = f"bench-companion-{count}"
            ChatSession.insert(id=session_id, patient=patient_id,
                               persona="persona-journal-companion",
                               title=f"Bench: {count:,} messages", session_type="chat",
                               saved=1, created_at=stamp, updated_at=stamp).execute()
            rows = []
            for index in range(count):
                if index == count - 1:
                    role, text = "assistant", companion_mark(count)
                elif index % 2 == 0:
                    role, text = "user", " ".join(rng.choices(sentences, k=rng.randint(1, 2)))
                else:
                    role = "assistant"
                    words = rng.choice(WORDS)
                    text = f"**{words.capitalize()}** " + " ".join(rng.choices(sentences, k=3))
                    if index % 3 == 0:
                        text += "\n\n" + "\n".join(f"- {line}"
                                                     for line in rng.choices(sentences, k=3))
                rows.append((session_id, role, text, stamp, stamp))
            for begin in range(0, len(rows), 5000):
                Message.insert_many(rows[begin:begin + 5000], fields=[
                    Message.session, Message.role, Message.content, Message.created_at,
                    Message.updated_at]).execute()


def _vitals(session: VaultSession, patient_id: str, sizes: Sizes, rng: random.Random) -> None:
    from luna_tui.store.models.vitals import Vital

    start = session.clock.now().astimezone().replace(tzinfo=None) - dt.timedelta(
        days=365 * sizes.years)
    step = dt.timedelta(days=365 * sizes.years) / max(sizes.vitals, 1)
    kinds = (("weight", "kg", 70, 5), ("heart_rate", "bpm", 70, 10), ("glucose", "mmol/L", 6, 1))
    rows = []
    for index in range(sizes.vitals):
        kind, unit, centre, spread = kinds[index % len(kinds)]
        rows.append({"id": f"bench-vital-{index}", "patient": patient_id, "kind": kind,
                     "value": round(rng.gauss(centre, spread), 1), "unit": unit,
                     "measured_at": (start + step * index).strftime("%Y-%m-%dT%H:%M"),
                     "created_at": "2026-01-01T00:00:00.000Z",
                     "updated_at": "2026-01-01T00:00:00.000Z"})
    with session.writing("build a benchmark vault"):
        for begin in range(0, len(rows), 5000):
            Vital.insert_many(rows[begin:begin + 5000]).execute()


def _doses(session: VaultSession, patient_id: str, sizes: Sizes, rng: random.Random) -> None:
    from luna_tui.services.medications import Medications
    from luna_tui.store.models.medications import MedicationDose

    days = sizes.doses // 2
    first_day = local_today(session.clock) - dt.timedelta(days=days)
    medication = Medications(session).create(patient_id, "Metformin", "500 mg", "twice daily",
                                             start_date=first_day.isoformat())
    rows = []
    for index in range(sizes.doses):
        day = first_day + dt.timedelta(days=index // 2)
        slot = medication.schedule[index % 2]
        status = rng.choices(("taken", "late", "missed", "skipped"), (85, 7, 6, 2))[0]
        at = f"{day.isoformat()}T{slot}"
        rows.append({"id": f"bench-dose-{index}", "medication": medication.id,
                     "patient": patient_id, "scheduled_at": at,
                     "taken_at": at if status in ("taken", "late") else None, "status": status,
                     "created_at": "2026-01-01T00:00:00.000Z",
                     "updated_at": "2026-01-01T00:00:00.000Z"})
    with session.writing("build a benchmark vault"):
        for begin in range(0, len(rows), 5000):
            MedicationDose.insert_many(rows[begin:begin + 5000]).execute()


def _appointments(session: VaultSession, patient_id: str, sizes: Sizes,
                  rng: random.Random) -> None:
    """Ten years of visits, most of them past, a few ahead; and a cabinet of medications
    with dose changes, so the medications screen has a history to show."""
    from luna_tui.services.medications import Medications
    from luna_tui.store.models.appointments import Appointment

    today = local_today(session.clock)
    span = 365 * sizes.years
    providers = ("Dr Rivera", "Dr Okafor", "Physio Sam", "Dental care", "Eye clinic")
    rows = []
    for index in range(sizes.appointments):
        day = today - dt.timedelta(days=span) + dt.timedelta(
            days=(span + 60) * index // max(sizes.appointments, 1))
        upcoming = day >= today
        rows.append({"id": f"bench-appointment-{index}", "patient": patient_id,
                     "appointment_date": day.isoformat(),
                     "appointment_time": f"{rng.randint(8, 17):02d}:{rng.choice(('00', '30'))}",
                     "appointment_type": rng.choice(("routine", "specialist", "follow_up")),
                     "provider_name": rng.choice(providers), "location": "City Clinic",
                     "status": "scheduled" if upcoming else "completed",
                     "created_at": "2026-01-01T00:00:00.000Z",
                     "updated_at": "2026-01-01T00:00:00.000Z"})
    with session.writing("build a benchmark vault"):
        for begin in range(0, len(rows), 5000):
            Appointment.insert_many(rows[begin:begin + 5000]).execute()
    medications = Medications(session)
    for index, name in enumerate(("Atorvastatin", "Lisinopril", "Sertraline", "Vitamin D")):
        medication = medications.create(
            patient_id, name, f"{10 * (index + 1)} mg", "once daily",
            start_date=(today - dt.timedelta(days=700 + 50 * index)).isoformat())
        medications.update(medication.id, dosage=f"{20 * (index + 1)} mg",
                           effective=(today - dt.timedelta(days=200)).isoformat())
