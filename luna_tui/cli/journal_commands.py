"""`luna add`, `list`, `search`, `import` and `export`: the journal from the shell.

Quick capture like jrnl, without its costs: the text never goes through an editor temp
file, and every command reads only the rows it shows, so it takes as long with
100,000 entries as with 1,000.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, TYPE_CHECKING, Any

from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import whole_number
from luna_tui.cli.vault_commands import open_session
from luna_tui.errors import (
    DiskFull,
    IntegrityFailure,
    LunaError,
    ReadOnlyKey,
    UsageError,
    ValidationError,
    VaultBusy,
    VaultCorrupt,
)
from luna_tui.terminal_text import json_text, terminal_text

if TYPE_CHECKING:
    from luna_tui.services.journal import Entry
    from luna_tui.services.vault_session import VaultSession

DEFAULT_COUNT = 20
# Failures after which the vault can't take a draft either: say so rather than try.
UNWRITABLE = (DiskFull, VaultBusy, VaultCorrupt, IntegrityFailure, ReadOnlyKey)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    add = commands.add_parser(
        "add", parents=[common], help="write a journal entry",
        description="Write a journal entry: TEXT, else what is piped in, else typed at a "
        "prompt (finish with Ctrl-D). Nothing is ever written to an editor temp file. If the "
        "entry can't be saved (a bad option, say), it is kept as an encrypted draft in the "
        "vault: `luna add --resume` saves it, and the app offers it at the next unlock.",
    )
    add.add_argument("text", nargs="*", metavar="TEXT", help="the entry's text")
    add.add_argument("--title")
    add.add_argument("--mood", metavar="WORD", help="a word for your mood, e.g. calm")
    add.add_argument("--mood-scale", metavar="N", help="your mood from 1 (worst) to 10 (best)")
    add.add_argument("--sleep", metavar="H", help="hours slept, e.g. 6.5")
    add.add_argument("--tag", action="append", default=[], metavar="T",
                     help="a tag (repeat for more)")
    add.add_argument("--date", metavar="YYYY-MM-DD[THH:MM]",
                     help="when it happened (default: now); also today, yesterday")
    add.add_argument("--patient", metavar="NAME", help="whose journal (default: the current)")
    add.add_argument("--private", action="store_true",
                     help="keep it private: never shown to the AI companion or shared")
    add.add_argument("--favorite", action="store_true", help="star it")
    add.add_argument("--resume", action="store_true",
                     help="save the entry a failed `luna add` kept as a draft; options given "
                     "now replace its own (e.g. --mood-scale 7)")
    add.set_defaults(handler=cmd_add)

    for name, help_text in (("list", "show the newest entries"),
                            ("search", "find entries by their words")):
        command = commands.add_parser(name, parents=[common], help=help_text)
        if name == "search":
            command.add_argument("query", nargs="+", metavar="QUERY",
                                 help='words that must all appear; "quote" a phrase')
        command.add_argument("-n", type=positive_count, default=DEFAULT_COUNT, metavar="N",
                             help=f"how many (default {DEFAULT_COUNT})")
        command.add_argument("--json", action="store_true", help="print JSON")
        command.add_argument("--patient", metavar="NAME")
        command.set_defaults(handler=cmd_list if name == "list" else cmd_search)

    importer = commands.add_parser(
        "import", parents=[common], help="import a Luna or jrnl JSON export",
        description="Import Luna's own JSON export (every table) or jrnl's "
        "(`jrnl --format json`); the format is detected if not given.",
    )
    importer.add_argument("file", metavar="FILE")
    importer.add_argument("--format", choices=("luna", "jrnl"))
    importer.add_argument("--patient", metavar="NAME", help="whose journal jrnl entries join")
    importer.set_defaults(handler=cmd_import)

    exporter = commands.add_parser(
        "export", parents=[common], help="export everything (JSON) or the journal (Markdown)",
        description="json: every table, re-importable with `luna import`. md: the journal, "
        "for reading. Private journal entries are left out unless --include-private: to "
        "move a whole vault, export with --include-private (or restore a backup, the "
        "complete copy). Exports are NOT encrypted.",
    )
    exporter.add_argument("--format", choices=("json", "md"), required=True)
    exporter.add_argument("--out", metavar="FILE", help="write to FILE (default: stdout)")
    exporter.add_argument("--include-private", action="store_true",
                          help="include the journal entries marked private (left out "
                          "otherwise)")
    exporter.set_defaults(handler=cmd_export)


# How many rows a listing may ask for: a ten-year vault's journal (for everything at
# once, `luna export` is the way).
MAX_COUNT = 100_000
positive_count = whole_number(1, MAX_COUNT)


def resolve_patient(session: VaultSession, name: str | None) -> tuple[str, str]:
    """(id, name) of --patient NAME, else of the current patient."""
    from luna_tui.services.patients import Patients
    from luna_tui.services.settings import Settings

    patients = Patients(session)
    if name:
        patient = patients.find(name)
    else:
        patient = patients.get(Settings(session).current_patient_id())
    return patient.id, patient.name


# -- add ------------------------------------------------------------------------------

DRAFT_KIND = "journal_entry"  # the entry editor's kind: the app resumes these drafts too
# Marks the drafts `luna add` keeps: `--resume` takes only those, never the app's.
DRAFT_SOURCE = "luna add"
DRAFT_KEPT = ("Your entry was not saved; it is kept as an encrypted draft in the vault. Run "
              "`luna add --resume` with the options put right to save it, or open Luna: it "
              "offers the draft at the next unlock.")
NOTHING_SAVED = "Nothing was saved, not even a draft."


def cmd_add(args: argparse.Namespace) -> int:
    from luna_tui.services.journal import Journal

    if args.resume:
        return _resume_add(args)
    text = " ".join(args.text) if args.text else None
    if text is None and not sys.stdin.isatty():
        text = sys.stdin.read()
    if text is None:
        # Nothing is written yet: a bad option is said before the passphrase and the text.
        # A text already given goes on, so that a bad option keeps it as a draft.
        _check_add_options(args)
    with _open_for_entry(args, text) as session:
        typed = text is None
        patient_id = None
        try:
            session.require_writable("save an entry")
            patient_id, patient_name = resolve_patient(session, args.patient)
            if typed:
                text = _prompt_for_text()
            entry = Journal(session).create(patient_id, _entry_draft(text or "", args))
        except LunaError as error:
            if text is None:
                raise  # refused before anything was typed: nothing to keep
            raise _not_saved(session, error, _draft_fields(text, args, session),
                             patient_id, typed=typed) from None
    print(terminal_text(f"Saved to {patient_name}'s journal: {entry.entry_date} "
                        f"{entry.entry_time} \"{_short(entry.display_title, 60)}\""))
    return 0


def _open_for_entry(args: argparse.Namespace, text: str | None) -> VaultSession:
    """The vault, for an entry; if it won't open, the entry's own problem (a bad option)
    is said first, so the next try is the last."""
    try:
        return open_session(args, warm=JOURNAL_MODULES)
    except LunaError as error:
        if not (text and text.strip()):
            raise
        try:
            _check_add_options(args)
        except ValidationError as problem:
            raise _said_with(problem, f"{NOTHING_SAVED[:-1]}: {error}") from None
        raise _said_with(error, NOTHING_SAVED) from None


def _entry_draft(text: str, args: argparse.Namespace) -> Any:
    from luna_tui.services.journal import EntryDraft

    date_part, _, time_part = (args.date or "").partition("T")
    return EntryDraft(
        content=text, title=args.title, mood=args.mood, mood_scale=args.mood_scale,
        sleep_hours=args.sleep, tags=args.tag, entry_date=date_part or None,
        # A date without a time: the time is unknown, not "now".
        entry_time=time_part or ("" if date_part else None), favorite=args.favorite,
        privacy_level="private" if args.private else None,
    )


def _not_saved(session: VaultSession, error: LunaError, fields: dict[str, Any],
               patient_id: str | None, *, typed: bool) -> LunaError:
    """The entry could not be saved: keep it as a draft where the vault can still be
    written, else say plainly that nothing was kept (and give typed text back)."""
    from luna_tui.services.base import new_id
    from luna_tui.services.drafts import Drafts

    text = str(fields["content"])
    if not text.strip():
        return error  # an empty entry: nothing to keep
    if not isinstance(error, UNWRITABLE):
        try:
            Drafts(session).keep(new_id(), DRAFT_KIND, fields, patient_id=patient_id,
                                 context={"source": DRAFT_SOURCE})
        except LunaError:
            pass  # said below: nothing was kept
        else:
            return _said_with(error, DRAFT_KEPT)
    if typed:
        # Typed at the prompt, it exists nowhere else: give it back before the error.
        print("Your entry was not saved. Here it is, to copy:\n", file=sys.stderr)
        print(text, file=sys.stderr)
    return _said_with(error, NOTHING_SAVED)


def _said_with(error: LunaError, sentence: str) -> LunaError:
    """The same typed error (its exit code too), saying what became of the entry."""
    error.message = f"{error.message.rstrip()} {sentence}"
    return error


def _draft_fields(text: str, args: argparse.Namespace, session: VaultSession) -> dict[str, Any]:
    """The entry as the app's entry editor holds it (its fields' ids), so the app resumes
    it in the editor. When it happened is kept: resumed later, it is still that day."""
    now = session.clock.now().astimezone()
    date_part, _, time_part = (args.date or "").partition("T")
    return {
        "content": text, "title": args.title or "",
        "entry_date": date_part or now.date().isoformat(),
        "entry_time": time_part or ("" if date_part else now.strftime("%H:%M")),
        "mood": args.mood or "", "mood_scale": args.mood_scale, "sleep_hours": args.sleep or "",
        "emotions": "", "tags": _tags_text(args.tag), "journal_type": "free", "prompt": None,
        "privacy_level": "private" if args.private else None, "favorite": bool(args.favorite),
    }


def _tags_text(tags: list[str]) -> str:
    return " ".join("#" + tag.lstrip("#") for tag in tags)


def _resume_add(args: argparse.Namespace) -> int:
    """Save the newest kept draft of a new entry, with the options given now in place of
    its own; audited once as resumed. If it fails again, the draft stays, with them."""
    from luna_tui.errors import NotFound
    from luna_tui.services.drafts import Drafts
    from luna_tui.services.patients import Patients

    if args.text:
        raise UsageError("--resume saves the kept draft's own text; leave TEXT out (to change "
                         "the text, open Luna: it offers the draft at the next unlock).")
    _check_add_options(args)
    with open_session(args, warm=JOURNAL_MODULES) as session:
        session.require_writable("save an entry")
        drafts = Drafts(session)
        wanted = resolve_patient(session, args.patient)[0] if args.patient else None
        draft = drafts.newest(DRAFT_KIND, source=DRAFT_SOURCE, patient_id=wanted)
        if draft is None:
            raise NotFound("There is no kept draft of a new journal entry"
                           + (f" for {args.patient}" if args.patient else "") + ".")
        fields = _with_options(draft.fields, args)
        patient_id = wanted or draft.patient_id or resolve_patient(session, None)[0]
        patient_name = Patients(session).get(patient_id).name
        drafts.resume(draft.id)
        try:
            entry = session.run(_save_and_forget, session, patient_id, fields, draft.id)
        except LunaError as error:
            if isinstance(error, UNWRITABLE):
                raise _said_with(error, "The draft is still in the vault.") from None
            drafts.keep(draft.id, DRAFT_KIND, fields, patient_id=patient_id,
                        context={"source": DRAFT_SOURCE})
            raise _said_with(error, "Still not saved; the draft is kept, with these options."
                             ) from None
    print(terminal_text(f"Saved to {patient_name}'s journal: {entry.entry_date} "
                        f"{entry.entry_time} \"{_short(entry.display_title, 60)}\""))
    return 0


def _with_options(fields: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The draft's fields, with each option given now in place of the draft's own."""
    fields = dict(fields)
    for option, name in (("title", "title"), ("mood", "mood"), ("mood_scale", "mood_scale"),
                         ("sleep", "sleep_hours")):
        if getattr(args, option) is not None:
            fields[name] = getattr(args, option)
    if args.tag:
        fields["tags"] = _tags_text(args.tag)
    if args.date:
        date_part, _, time_part = args.date.partition("T")
        fields["entry_date"], fields["entry_time"] = date_part, time_part
    if args.favorite:
        fields["favorite"] = True
    if args.private:
        fields["privacy_level"] = "private"
    return fields


def _save_and_forget(session: VaultSession, patient_id: str, fields: dict[str, Any],
                     draft_id: str) -> Entry:
    """On the DB thread: the entry and the end of its draft commit together, so a kill
    can't leave both (a second resume would save the entry twice)."""
    from luna_tui.services.drafts import Drafts
    from luna_tui.services.journal import EntryDraft, Journal

    def text(name: str) -> str | None:
        value = fields.get(name)
        return None if value is None else str(value)

    draft = EntryDraft(
        content=str(fields.get("content") or ""), title=text("title"),
        entry_date=fields.get("entry_date") or None, entry_time=fields.get("entry_time"),
        mood=text("mood"), mood_scale=fields.get("mood_scale") or None,
        sleep_hours=fields.get("sleep_hours"), emotions=fields.get("emotions"),
        tags=fields.get("tags"), journal_type=str(fields.get("journal_type") or "free"),
        prompt=text("prompt"), privacy_level=text("privacy_level"),
        favorite=bool(fields.get("favorite")))
    with session.writing("save an entry"):
        entry = Journal(session).create(patient_id, draft)
        Drafts(session).forget(draft_id)
    return entry


def _check_add_options(args: argparse.Namespace) -> None:
    """Bad dates and scales are reported before anyone types a passphrase or a text."""
    from luna_tui.clock import SystemClock, local_today
    from luna_tui.services.validation import (
        parse_date,
        parse_optional_number,
        parse_scale,
        parse_time,
    )

    today = local_today(SystemClock())
    if args.date:
        date_part, _, time_part = args.date.partition("T")
        parse_date(date_part, "date", today)
        if time_part:
            parse_time(time_part, "time")
    parse_scale(args.mood_scale, "mood_scale", 1, 10)
    parse_optional_number(args.sleep, "sleep_hours", low=0, high=24, unit="hours")


def _prompt_for_text() -> str:
    from luna_tui.cli.secrets_input import terminal_available

    if not terminal_available():
        raise UsageError("Give the entry as TEXT or pipe it in: luna add \"…\"")
    print("Write your entry. Finish with Ctrl-D on an empty line (Ctrl-C cancels):",
          file=sys.stderr)
    lines = []
    try:
        while True:
            lines.append(input())
    except EOFError:
        pass
    text = "\n".join(lines)
    if not text.strip():
        raise ValidationError("The entry is empty; nothing was saved.", "content")
    return text


# -- list and search ----------------------------------------------------------------------


JOURNAL_MODULES = ("luna_tui.services.journal", "luna_tui.services.patients",
                   "luna_tui.services.settings")


def cmd_list(args: argparse.Namespace) -> int:
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.journal import Journal

        patient_id, patient_name = resolve_patient(session, args.patient)
        entries = Journal(session).page(patient_id, limit=args.n).entries
    if args.json:
        print_json([entry_json(e, patient_name) for e in entries])
    elif not entries:
        print(f"{terminal_text(patient_name)}'s journal is empty. Write the first entry with: "
              'luna add "…"')
    else:
        for entry in entries:
            print(_entry_line(entry))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.journal import Journal
        from luna_tui.services.text_search import MARK_END, MARK_START

        patient_id, patient_name = resolve_patient(session, args.patient)
        hits = Journal(session).search(patient_id, query, limit=args.n)
    if args.json:
        print_json([
            {**entry_json(h.entry, patient_name),
             "snippet": h.snippet.replace(MARK_START, "").replace(MARK_END, ""),
             "score": h.score}
            for h in hits
        ])
        return 0
    if not hits:
        print(f"No entries match '{terminal_text(query)}'.")
        return 0
    bold = sys.stdout.isatty()
    for hit in hits:
        print(_entry_line(hit.entry))
        pieces = [f"\x1b[1;33m{shown}\x1b[0m" if match and bold else shown
                  for text, match in hit.snippet_parts()
                  if (shown := terminal_text(text, multiline=True))]
        print("    " + " ".join("".join(pieces).split()))
    return 0


def entry_json(entry: Entry, patient_name: str) -> dict[str, Any]:
    return with_patient({
        "id": entry.id,
        "entry_date": entry.entry_date, "entry_time": entry.entry_time, "title": entry.title,
        "content": entry.content, "mood": entry.mood, "mood_scale": entry.mood_scale,
        "sleep_hours": entry.sleep_hours, "emotions": list(entry.emotions),
        "tags": list(entry.tags), "journal_type": entry.journal_type, "prompt": entry.prompt,
        "favorite": entry.favorite, "privacy_level": entry.privacy_level,
        "created_at": entry.created_at, "updated_at": entry.updated_at,
    }, entry.patient_id, patient_name)


def _entry_line(entry: Entry) -> str:
    when = f"{entry.entry_date} {entry.entry_time or '     '}"
    mood = ""
    if entry.mood_scale or entry.mood:
        mood = " ".join(p for p in (f"{entry.mood_scale}/10" if entry.mood_scale else "",
                                    entry.mood or "") if p)
    tags = " ".join(f"#{t}" for t in entry.tags)
    star = "★" if entry.favorite else ""
    title = _short(terminal_text(entry.display_title), 50).ljust(50)
    parts = [when, title, terminal_text(mood), terminal_text(tags), star]
    return "  ".join(p for p in parts if p).rstrip()


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_json(value: Any) -> None:
    """JSON escapes the C0 controls itself; `json_text` escapes the rest."""
    sys.stdout.write(json_text(json.dumps(value, ensure_ascii=False, indent=2)) + "\n")


# -- import and export ----------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from luna_tui.services.importing import Importer, check_document, read_import_file

    # The whole file is read and checked before the passphrase is asked for.
    checked = check_document(read_import_file(Path(args.file).expanduser()), args.format)
    with open_session(args) as session:
        session.require_writable("import data")
        patient_id = resolve_patient(session, args.patient)[0] if args.patient else None
        with _progress("Importing") as advance:
            result = Importer(session).import_checked(checked, patient_id=patient_id,
                                                      progress=advance)
    print(result.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from luna_tui.services.export_files import private_output
    from luna_tui.services.exporting import Exporter

    private = args.include_private
    with open_session(args) as session:
        exporter = Exporter(session)
        left_out = 0 if private else exporter.private_entries()
        if args.out is None:
            out = _TerminalSafe(sys.stdout) if sys.stdout.isatty() else sys.stdout
            if args.format == "json":
                exporter.write_json(out, include_private=private)
            else:
                exporter.write_markdown(out, include_private=private)
            _say_left_out(left_out)
            return 0
        total = sum(exporter.table_counts(include_private=private).values())
        with private_output(args.out) as out, _progress("Exporting", total) as advance:
            if args.format == "json":
                counts = exporter.write_json(out, progress=lambda done: advance(done, total),
                                             include_private=private)
                rows = sum(counts.values())
            else:
                rows = exporter.write_markdown(out, include_private=private)
    what = "rows" if args.format == "json" else "journal entries"
    print(f"Wrote {rows} {what} to {args.out}. This file is NOT encrypted: keep it safe, "
          "and delete it when you no longer need it.", file=sys.stderr)
    _say_left_out(left_out)
    return 0


def _say_left_out(count: int) -> None:
    if count:
        print(f"luna: note: {count} private journal entr{'y was' if count == 1 else 'ies were'} "
              "left out; --include-private includes them.", file=sys.stderr)


class _TerminalSafe:
    """An export shown on a terminal rather than written to a file: its text is shown,
    never obeyed (redirected to a file, the export is written exactly)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_text(text, multiline=True))


class _progress:  # noqa: N801
    """A progress bar on stderr when it is a terminal; silence otherwise."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.bar = label, total, None

    def __enter__(self):  # noqa: ANN204
        if not sys.stderr.isatty():
            return lambda done, total=None: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)

        def advance(done: int, total: int | None = None) -> None:
            self.bar.update(task, completed=done, total=total or self.total)

        return advance

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.stop()
