"""Only luna_tui/clock.py reads the wall clock.

Everything else takes time from an injected clock, so tests can put "today" anywhere
(tests/conftest.py TODAYS) and a migration, a stale-file check or a benchmark never
stamps a vault with the machine's time behind the clock's back. This scans the code of
`luna_tui/` and `migrations/` — comments and docstrings aside (prose may name what it
avoids), other strings included, since SQL lives in them — for the ways Python and
SQLite read the wall clock.

Durations (`time.monotonic`, `time.perf_counter`, `time.sleep`) are not wall time and
are not looked for.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("luna_tui", "migrations")
THE_CLOCK = "luna_tui/clock.py"

# What reads the wall clock, in Python code or in SQL held in strings. SQLite's 'now' is
# looked for single-quoted anywhere, and double-quoted ("now", which SQLite also takes)
# inside a string; a Python string that is just "now" is no clock.
WALL_CLOCK_READS = {
    "datetime.now(": re.compile(r"\bdatetime\.now\("),
    "utcnow(": re.compile(r"\butcnow\("),
    "date.today(": re.compile(r"\b(?:date|datetime)\.today\("),
    "time.time(": re.compile(r"\btime\.time(?:_ns)?\("),
    "time.localtime(": re.compile(r"\btime\.(?:localtime|gmtime|ctime|asctime)\(\s*\)"),
    "CURRENT_TIMESTAMP": re.compile(r"\bCURRENT_(?:TIMESTAMP|DATE|TIME)\b", re.IGNORECASE),
    "'now'": re.compile(r"'now'", re.IGNORECASE),
}
SQL_NOW = "'now'"
DOUBLE_QUOTED_NOW = re.compile(r'"now"', re.IGNORECASE)

# (file, what): why it may stay. Keep this short: each entry is a promise checked
# elsewhere.
ALLOWED = {
    ("migrations/main/0002_health_data.py", "'now'"): (
        "The created_at/updated_at column DEFAULTs of the health tables. They are the "
        "shipped schema (schema/main.sql; changing them needs a migration) and never "
        "fire: every service passes both values from its clock, which "
        "test_every_row_is_stamped_by_the_clock_not_by_sqlite checks table by table."
    ),
}


def reads_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for each wall-clock read in one file's source. Comments and
    docstrings are prose and skipped; other strings are searched, as SQL lives in them."""
    if not any(p.search(source) for p in (*WALL_CLOCK_READS.values(), DOUBLE_QUOTED_NOW)):
        return []  # most files: no need to tokenize
    tree = ast.parse(source)
    prose = {(node.body[0].lineno, node.body[0].col_offset) for node in ast.walk(tree)
             if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                  ast.AsyncFunctionDef))
             and ast.get_docstring(node, clean=False) is not None}
    lines = [list(line) for line in source.splitlines()]
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        is_docstring = token.type == tokenize.STRING and token.start in prose
        if token.type == tokenize.COMMENT or is_docstring:
            _blank(lines, token.start, token.end)
        elif token.type == tokenize.STRING:
            body = token.string.lstrip("rRbBuUfF")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            if DOUBLE_QUOTED_NOW.search(body[len(quote):-len(quote)]):
                found.append((token.start[0], SQL_NOW))
    for number, line in enumerate(lines, start=1):
        code = "".join(line)
        found += [(number, what) for what, pattern in WALL_CLOCK_READS.items()
                  if pattern.search(code)]
    return found


def _blank(lines: list[list[str]], start: tuple[int, int], end: tuple[int, int]) -> None:
    for row in range(start[0], end[0] + 1):
        line = lines[row - 1]
        first = start[1] if row == start[0] else 0
        last = end[1] if row == end[0] else len(line)
        line[first:last] = " " * (last - first)


def wall_clock_reads(root: Path) -> dict[tuple[str, str], list[int]]:
    """(file, what) → line numbers, for every read outside the clock module."""
    found: dict[tuple[str, str], list[int]] = {}
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name == THE_CLOCK:
                continue
            for number, what in reads_in(path.read_text(encoding="utf-8")):
                found.setdefault((name, what), []).append(number)
    return {key: sorted(set(lines)) for key, lines in found.items()}


def test_nothing_but_the_clock_reads_the_wall_clock():
    found = wall_clock_reads(ROOT)
    unexpected = [f"{name}:{lines[0]} reads the wall clock ({what})"
                  + (f", and {len(lines) - 1} more line(s)" if len(lines) > 1 else "")
                  for (name, what), lines in sorted(found.items()) if (name, what) not in ALLOWED]
    assert not unexpected, (
        "Take time from the injected clock (luna_tui/clock.py: clock.now(), "
        "clock.wall_time(), local_today(clock)):\n" + "\n".join(unexpected))


def test_every_allowed_read_is_still_there():
    """An entry whose read went away must go too, or it would excuse the next one."""
    found = wall_clock_reads(ROOT)
    assert [key for key in ALLOWED if key not in found] == []


def test_the_scan_sees_each_kind_of_read(tmp_path):
    """Each pattern finds what it is for, in code and in SQL, and skips comments."""
    package = tmp_path / "luna_tui"
    package.mkdir()
    (package / "clock.py").write_text("import time\nnow = time.time()\n")
    (package / "reads.py").write_text(
        "import datetime as dt, time\n"
        "a = dt.datetime.now(dt.UTC)\n"
        "b = dt.datetime.utcnow()\n"
        "c = dt.date.today()\n"
        "d = time.time_ns()\n"
        "e = time.localtime()\n"
        "f = 'INSERT INTO t VALUES (CURRENT_TIMESTAMP)'\n"
        "g = \"SELECT strftime('%s', 'now')\"\n"
        "h = 'SELECT date(\"now\")'\n"
        "if 'now' in {\"now\": 1}: pass\n"
        "# a comment may say datetime.now() and 'now'\n"
        "i = time.perf_counter() + time.monotonic()\n"
        "j = time.localtime(0)\n"
        "def k():\n"
        "    \"\"\"A docstring may say why not date.today(), and 'now'.\"\"\"\n"
        "    return time.time()\n"
    )
    found = wall_clock_reads(tmp_path)
    assert found == {
        ("luna_tui/reads.py", "datetime.now("): [2],
        ("luna_tui/reads.py", "utcnow("): [3],
        ("luna_tui/reads.py", "date.today("): [4],
        ("luna_tui/reads.py", "time.time("): [5, 16],
        ("luna_tui/reads.py", "time.localtime("): [6],
        ("luna_tui/reads.py", "CURRENT_TIMESTAMP"): [7],
        ("luna_tui/reads.py", "'now'"): [8, 9, 10],
    }


# -- migrations take their time from the clock --------------------------------------------


def test_a_new_vault_is_stamped_by_the_clock_in_its_migrations(session, clock):
    """The audit head's month and time, the owner and built-in personas, and each
    database's migration history: the clock's moment, whatever the machine's date."""
    from luna_tui.clock import month_key, utc_timestamp
    from luna_tui.store.models.base import database

    def read(sql: str) -> list[tuple]:
        return session.run(lambda: database.execute_sql(sql).fetchall())

    stamp = utc_timestamp(clock.now())
    assert read("SELECT month, updated_at FROM audit_head") == [(month_key(clock.now()), stamp)]
    assert set(read("SELECT created_at, updated_at FROM patients UNION "
                    "SELECT created_at, updated_at FROM personas")) == {(stamp, stamp)}
    local = str(clock.now().astimezone().replace(tzinfo=None))  # Peewee's form of `applied`
    for schema in ("main", "stats", "audit"):
        assert {a for (a,) in read(f"SELECT applied FROM {schema}.schema_migration")} == {local}


# -- the column defaults that read SQLite's clock never fire ---------------------------------


def tables_stamped_by_sqlite_defaults(session) -> list[str]:
    """The tables of luna.db whose created_at/updated_at DEFAULT reads SQLite's 'now'."""
    from luna_tui.store.models.base import database

    rows = session.run(lambda: database.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    return sorted(name for name, sql in rows if "'now'" in sql)


def stamps_by_table(session, tables: list[str]) -> dict[str, set[str]]:
    from luna_tui.store.models.base import database

    return {table: {value for row in session.run(lambda t=table: database.execute_sql(
        f'SELECT created_at, updated_at FROM "{t}"').fetchall()) for value in row}
        for table in tables}


def test_every_row_is_stamped_by_the_clock_not_by_sqlite(session, clock, layout, tmp_path):
    """One row in each such table through its service (and the import), with the clock
    at moments SQLite's own clock never gives: every stamp is one of the clock's."""
    from ai_server import FakeModel

    from conftest import OTHER_PASSPHRASE, cheap_kdf
    from luna_tui.clock import utc_timestamp
    from luna_tui.errors import ImportRejected
    from luna_tui.home import VaultLayout
    from luna_tui.services.ai.memory import Memory
    from luna_tui.services.ai.personas import Personas
    from luna_tui.services.ai.sending import Sender
    from luna_tui.services.ai.sessions import ChatSessions
    from luna_tui.services.appointments import Appointments
    from luna_tui.services.attachments import Attachments
    from luna_tui.services.exporting import Exporter
    from luna_tui.services.importing import Importer
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.medications import Medications
    from luna_tui.services.patients import Patients
    from luna_tui.services.records import Records
    from luna_tui.services.settings import Settings
    from luna_tui.services.terms import Terms
    from luna_tui.services.vault_setup import create_vault
    from luna_tui.services.vitals import Vitals

    created = utc_timestamp(clock.now())  # the vault: its owner, the built-in personas
    clock.moment = clock.moment.replace(year=2031, microsecond=123_000)
    made = utc_timestamp(clock.now())
    model = FakeModel().start()
    try:
        settings = Settings(session)
        settings.set("ai.base_url", model.base_url)
        settings.set("ai.model", "tiny")
        sam = Patients(session).create("Sam").id
        medication = Medications(session).create(sam, "Metformin", "500 mg", "twice daily")
        Medications(session).log_dose(medication.id, "taken")
        Appointments(session).create(sam, clock.today().isoformat())
        Journal(session).create(sam, EntryDraft(content="One"))
        Journal(session).import_entries(sam, [EntryDraft(content="Two")], source="test")
        Vitals(session).record(sam, "heart_rate", 70)
        personas = Personas(session)
        sessions = ChatSessions(session)
        memory = Memory(session, summary_threshold=1, keep_recent=0)
        sender = Sender(session, memory)
        persona = personas.create("Coach", "Be kind.")
        convo = sessions.create(sam, persona.id)
        reply = sender.send(convo.id, "Hello").reply
        memory.pin(reply.id, "symptom")
        assert memory.summaries(convo.id)
        record = Records(session).create(sam, title="Blood test")
        (tmp_path / "result.txt").write_text("HbA1c 6.1")
        Attachments(session).add(record.id, tmp_path / "result.txt")
        Terms(session).accept()
    finally:
        model.stop()
    tables = tables_stamped_by_sqlite_defaults(session)
    assert len(tables) == 15
    stamps = stamps_by_table(session, tables)
    assert {t: s for t, s in stamps.items() if not s <= {created, made}} == {}

    exported = io.StringIO()
    Exporter(session).write_json(exported)
    document = json.loads(exported.getvalue())
    session.close()
    clock.advance(days=1)
    imported = utc_timestamp(clock.now())
    other = VaultLayout(tmp_path / "other")
    with create_vault(other, OTHER_PASSPHRASE, kdf=cheap_kdf(), clock=clock).session as second:
        unstamped = copy.deepcopy(document)
        for row in unstamped["tables"]["vitals"]:  # a hand-made file may leave them out
            del row["created_at"], row["updated_at"]
        with pytest.raises(ImportRejected, match="created_at is missing"):
            Importer(second).import_document(unstamped)  # never stamped by SQLite's clock
        Importer(second).import_document(document)
        stamps = stamps_by_table(second, tables)
    assert stamps["vitals"] == {made}  # the rows keep their own
    assert {t: s for t, s in stamps.items() if not s <= {created, made, imported}} == {}
