"""`luna add`, `list`, `search`, `import` and `export`: the journal from the shell.

Quick capture like jrnl, without its costs: the text never goes through an editor temp
file, and every command reads only the rows it shows, so it takes as long with
100,000 entries as with 1,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from typing import IO, TYPE_CHECKING, Any

from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import whole_number
from luna_tui.cli.vault_commands import open_session
from luna_tui.clock import SystemClock, local_today
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
from luna_tui.services.date_phrases import (
    inline_tags,
    is_future,
    leading_moment,
    parse_moment,
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
        description="Write a journal entry: typed at a prompt (finish with Ctrl-D) or "
        "piped in; or as TEXT, which other users can see in `ps` while it runs. Like jrnl, "
        "a leading date phrase ending with a colon says when (`yesterday: …`, `today at "
        "3pm: …`, `monday: …`, `3 days ago: …`, `2026-11-30 21:00: …`), alone as TEXT too "
        "(`luna add yesterday:` then the text); @tags in the text are added as tags. "
        "Nothing is ever written to an editor temp file. If the entry can't be saved (a "
        "bad option, say), it is kept as an encrypted draft in the vault: `luna add "
        "--resume` saves it, and the app offers it at the next unlock.",
    )
    add.add_argument("text", nargs="*", metavar="TEXT",
                     help="the entry's text, or only its leading date phrase (`yesterday:`)")
    add.add_argument("--title")
    add.add_argument("--mood", metavar="WORD", help="a word for your mood, e.g. calm")
    add.add_argument("--mood-scale", metavar="N", help="your mood from 1 (worst) to 10 (best)")
    add.add_argument("--sleep", metavar="H", help="hours slept, e.g. 6.5")
    add.add_argument("--tag", action="append", default=[], metavar="T",
                     help="a tag (repeat for more)")
    add.add_argument("--date", metavar="WHEN",
                     help="when it happened (default: now): 2026-11-30 21:00, yesterday, "
                     "monday at 9am, 3 days ago… (see the README's table)")
    add.add_argument("--future", action="store_true",
                     help="allow a date after now (refused otherwise: usually a slip)")
    add.add_argument("--patient", metavar="NAME", help="whose journal (default: the current)")
    add.add_argument("--private", action="store_true",
                     help="keep it private: never shown to the AI companion or shared")
    add.add_argument("--favorite", action="store_true", help="star it")
    add.add_argument("--template", metavar="NAME",
                     help="start from one of your templates (`luna templates`): with TEXT or "
                     "piped text, its title, tags and type go with the text; at a terminal "
                     "without TEXT, Luna's editor opens on a new entry filled from it")
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
        if name == "list":
            _filter_options(command)
            command.add_argument(
                "--today-in-history", "--on-this-day", action="store_true",
                help="entries written on today's month and day in earlier years (jrnl's "
                "-today-in-history, without this year's); Feb 29 shows on Feb 28 in years "
                "without one")

    _register_entry_commands(commands, common)

    importer = commands.add_parser(
        "import", parents=[common],
        help="import a JSON export or FHIR Bundle, an Apple Health export, a Daylio backup "
        "or CSV vitals",
        description="Import Luna's own JSON export (every table), jrnl's "
        "(`jrnl --format json`) or a FHIR R4 Bundle (what Luna understands of it; the rest "
        "is reported as skipped); an Apple Health export (export.zip or export.xml: vitals "
        "and sleep); a Daylio backup (.daylio: journal entries); or vitals in a CSV file "
        "(--map). The kind is told by the file's first bytes. Importing a file again "
        "adds nothing; a refused file leaves the vault as it was.",
    )
    importer.add_argument("file", metavar="FILE")
    importer.add_argument("--format", choices=("luna", "jrnl", "fhir"),
                          help="JSON only: which export it is (detected if not given)")
    importer.add_argument("--patient", metavar="NAME",
                          help="whose data it is (default: the current patient; a Luna "
                          "export or a FHIR Bundle naming its people keeps them)")
    importer.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN,…",
                          help="CSV only: which column holds what, e.g. "
                          "date=Date,kind=Type,value=Value,unit=Unit or "
                          "date=Date,weight=Weight (kg),heart_rate=Pulse")
    importer.add_argument("--skip-bad", action="store_true",
                          help="CSV only: import the good rows and skip the bad (without "
                          "it, one bad row stops the import)")
    importer.add_argument("--daily", action="store_true",
                          help="Apple Health only: one reading per day (the mean) of heart "
                          "rate, oxygen saturation and glucose")
    importer.add_argument("--privacy", choices=("private", "shared"),
                          help="Daylio only: the entries' privacy (default private)")
    importer.set_defaults(handler=cmd_import)

    exporter = commands.add_parser(
        "export", parents=[common],
        help="export everything (JSON), the journal (Markdown) or health data (FHIR)",
        description="json: every table, re-importable with `luna import`. md: the journal, "
        "for reading. fhir: health data (patients, vitals, medications, doses, "
        "appointments, records with their files, daily mood and sleep) as a FHIR R4 "
        "Bundle for other health tools, re-importable with `luna import`. Private journal "
        "entries (and their mood and sleep) are left out unless --include-private: to "
        "move a whole vault, export json with --include-private (or restore a backup, the "
        "complete copy). Exports are NOT encrypted.",
    )
    exporter.add_argument("--format", choices=("json", "md", "fhir"), required=True)
    exporter.add_argument("--out", metavar="FILE", help="write to FILE (default: stdout)")
    exporter.add_argument("--patient", metavar="NAME",
                          help="fhir: only this patient's data (default: every patient's)")
    exporter.add_argument("--include-private", action="store_true",
                          help="include the journal entries marked private (left out "
                          "otherwise)")
    exporter.set_defaults(handler=cmd_export)


def _register_entry_commands(commands: argparse._SubParsersAction,
                             common: argparse.ArgumentParser) -> None:
    """`luna edit`, `delete` and `star`: one entry, by the id `luna list` shows."""
    edit = commands.add_parser(
        "edit", parents=[common], help="change an entry's text, or open it in Luna's editor",
        description="Piped in (`luna edit ID < new.txt`), the text replaces the entry's; "
        "@tags in it are added to its tags. At a terminal, Luna's own editor opens on the "
        "entry after the unlock, and Luna closes with it. Never $EDITOR: an outside editor "
        "keeps the text in plaintext temp and swap files.",
    )
    edit.add_argument("entry", metavar="ID", help="the entry (a unique prefix will do)")
    edit.set_defaults(handler=cmd_edit)

    delete = commands.add_parser("delete", parents=[common], help="delete an entry",
                                 description="Delete an entry; it asks first at a "
                                 "terminal, and a script must say --yes.")
    delete.add_argument("entry", metavar="ID", help="the entry (a unique prefix will do)")
    delete.add_argument("--yes", action="store_true", help="don't ask first")
    delete.set_defaults(handler=cmd_delete)

    star = commands.add_parser("star", parents=[common], help="star an entry (--off: unstar)",
                               description="Star an entry (a favorite: `luna list "
                               "--starred`); --off takes the star away.")
    star.add_argument("entry", metavar="ID", help="the entry (a unique prefix will do)")
    star.add_argument("--off", action="store_true", help="take the star away")
    star.set_defaults(handler=cmd_star)


def _filter_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--tag", action="append", default=[], metavar="TAG",
                         help="only entries with this tag (repeat: with all of them)")
    command.add_argument("--starred", action="store_true", help="only starred entries")
    command.add_argument("--from", dest="date_from", metavar="WHEN",
                         help='from this day on: 2026-11-01, monday, "3 days ago", "last '
                         'week" (its Monday)…')
    command.add_argument("--to", dest="date_to", metavar="WHEN",
                         help='up to this day: yesterday, "last week" (its Sunday)…')
    command.add_argument("--mood", metavar="N|N-M|WORD",
                         help="a mood of 1-10 (7), a range (3-5), or a mood word (calm)")
    command.add_argument("--type", metavar="TYPE",
                         help="free, prompted or mood_check")


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

    args.when = _date_parts(args.date)
    args.phrase = None  # the leading date phrase, once one is read
    if args.resume:
        return _resume_add(args)
    if args.template and not args.text and sys.stdin.isatty():
        return _add_in_editor(args)
    text = " ".join(args.text) if args.text else None
    if text is not None:
        text = _take_phrase(text, args)
        if not text.strip():
            text = None  # `luna add yesterday:`: the text comes from stdin or the prompt
    if text is None and not sys.stdin.isatty():
        text = _take_phrase(sys.stdin.read(), args)
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
                text = _take_phrase(_prompt_for_text(), args)
            if args.template:
                _take_template(session, args)
            entry = Journal(session).create(patient_id, _entry_draft(text or "", args),
                                            future_ok=args.future)
        except LunaError as error:
            if text is None:
                raise  # refused before anything was typed: nothing to keep
            raise _not_saved(session, _with_future_hint(error),
                             _draft_fields(text, args, session), patient_id,
                             typed=typed) from None
        plan_fired = _safety_plan_fired(session, entry.id)
    _say_what_was_read(args, text or "")
    print(terminal_text(f"Saved to {patient_name}'s journal: {entry.entry_date} "
                        f"{entry.entry_time} \"{_short(entry.display_title, 60)}\""))
    if plan_fired:
        print(SAFETY_PLAN_LINE, file=sys.stderr)
    return 0


# Where the app would open the safety plan (a phrase of the plan's list, a drop in mood):
# one line on stderr, the same whatever fired it, that names no reason and nothing of
# the entry (a script's log may keep it), and asks nothing.
SAFETY_PLAN_LINE = "luna: your safety plan is one command away: luna plan"


def _safety_plan_fired(session: VaultSession, entry_id: str) -> bool:
    """Whether the entry just saved fires a trigger of the safety plan
    (services/safety/triggers.py); a failure to tell never costs the saved entry."""
    from luna_tui.services.safety.triggers import SafetyTriggers

    try:
        return SafetyTriggers(session).fired_by_entry(entry_id) is not None
    except LunaError:
        return False


def _add_in_editor(args: argparse.Namespace) -> int:
    """`luna add --template NAME` at a terminal: Luna's own editor, after the app's
    unlock, on a new entry filled from the template (never $EDITOR: see `luna edit`)."""
    given = [option for option, value in (
        ("--title", args.title), ("--mood", args.mood), ("--mood-scale", args.mood_scale),
        ("--sleep", args.sleep), ("--tag", args.tag), ("--date", args.date),
        ("--patient", args.patient), ("--private", args.private),
        ("--favorite", args.favorite)) if value]
    if given:
        raise UsageError(f"At a terminal, --template opens Luna's editor, where {given[0]} is "
                         "set; or give the text (TEXT, or piped in) to use it here.")
    if not sys.stdout.isatty():
        raise UsageError("Pipe the text in (luna add --template NAME < file), or run it at a "
                         "terminal to open Luna's editor.")
    return args.start_app(args, template=args.template)


def _take_template(session: VaultSession, args: argparse.Namespace) -> None:
    """The template's title (unless --title), tags (before --tag's and the text's) and
    type become the entry's; its placeholders are filled for the entry's day."""
    from luna_tui.services.entry_templates import EntryTemplates, fill

    template = EntryTemplates(session).find(args.template)
    moment = session.clock.now().astimezone().replace(tzinfo=None)
    if args.when and args.when[0]:
        try:
            moment = dt.datetime.combine(dt.date.fromisoformat(args.when[0]),
                                         dt.time.fromisoformat(args.when[1] or "00:00"))
        except ValueError:
            pass  # a bad date is the entry's to refuse, with its own sentence
    filled = fill(template, moment)
    args.title = args.title or filled.title
    args.tag = [*filled.tags, *args.tag]
    args.journal_type, args.prompt = filled.journal_type, filled.prompt


def _date_parts(text: str | None) -> tuple[str, str] | None:
    """--date as (day, time, "" for none): a phrase of the grammar read now (a draft
    resumed next week is still that day); else its parts as typed, for the service to
    say what is wrong (and a draft to keep them)."""
    if not text or not text.strip():
        return None
    moment = parse_moment(text, local_today(SystemClock()))
    if moment is not None:
        return moment[0].isoformat(), moment[1] or ""
    date_part, _, time_part = text.strip().replace(" ", "T", 1).partition("T")
    return date_part, time_part


def _take_phrase(text: str, args: argparse.Namespace) -> str:
    """The text without its leading date phrase (`yesterday: …`), which becomes the
    entry's date unless --date gave one (then the text is kept whole)."""
    if args.date or args.phrase:
        return text
    found = leading_moment(text, local_today(SystemClock()))
    if found is None:
        return text
    (day, hhmm), args.phrase, rest = found
    args.when = (day.isoformat(), hhmm or "")
    return rest


def _entry_tags(text: str, args: argparse.Namespace) -> list[str]:
    """--tag options, then the @tags written in the text (which stay in it)."""
    return [*args.tag, *inline_tags(text)]


def _say_what_was_read(args: argparse.Namespace, text: str) -> None:
    """One line on stderr when the text held a date phrase or @tags: what Luna made of
    them (the date and the tags, never the text)."""
    from luna_tui.services.validation import clean_tags

    parts = []
    if args.phrase and args.when:
        day, hhmm = args.when
        shown = dt.date.fromisoformat(day).strftime("%a %Y-%m-%d")
        parts.append(f'"{args.phrase}" as {shown} ' + (f"at {hhmm}" if hhmm else
                                                       "(no time)"))
    tags = clean_tags(inline_tags(text))
    if tags:
        parts.append("tags " + " ".join(f"#{tag}" for tag in tags))
    if parts:
        print(terminal_text("Read " + "; ".join(parts) + "."), file=sys.stderr)


def _with_future_hint(error: LunaError) -> LunaError:
    from luna_tui.errors import FutureEntry

    if isinstance(error, FutureEntry):
        error.message = f"{error.message} Add --future if you mean it."
    return error


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

    date_part, time_part = args.when or ("", "")
    return EntryDraft(
        content=text, title=args.title, mood=args.mood, mood_scale=args.mood_scale,
        sleep_hours=args.sleep, tags=_entry_tags(text, args), entry_date=date_part or None,
        # A date without a time: the time is unknown, not "now".
        entry_time=time_part or ("" if date_part else None), favorite=args.favorite,
        privacy_level="private" if args.private else None,
        journal_type=getattr(args, "journal_type", "free"), prompt=getattr(args, "prompt", None),
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
    date_part, time_part = args.when or ("", "")
    return {
        "content": text, "title": args.title or "",
        "entry_date": date_part or now.date().isoformat(),
        "entry_time": time_part or ("" if date_part else now.strftime("%H:%M")),
        "mood": args.mood or "", "mood_scale": args.mood_scale, "sleep_hours": args.sleep or "",
        "emotions": "", "tags": _tags_text(_entry_tags(text, args)),
        "journal_type": getattr(args, "journal_type", "free"),
        "prompt": getattr(args, "prompt", None),
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
            entry = session.run(_save_and_forget, session, patient_id, fields, draft.id,
                                args.future)
        except LunaError as error:
            _with_future_hint(error)
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
    if args.when:
        fields["entry_date"], fields["entry_time"] = args.when
    if args.favorite:
        fields["favorite"] = True
    if args.private:
        fields["privacy_level"] = "private"
    return fields


def _save_and_forget(session: VaultSession, patient_id: str, fields: dict[str, Any],
                     draft_id: str, future_ok: bool) -> Entry:
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
        entry = Journal(session).create(patient_id, draft, future_ok=future_ok)
        Drafts(session).forget(draft_id)
    return entry


def _check_add_options(args: argparse.Namespace) -> None:
    """Bad dates and scales are reported before anyone types a passphrase or a text."""
    from luna_tui.errors import FutureEntry
    from luna_tui.services.validation import (
        parse_date,
        parse_optional_number,
        parse_scale,
        parse_time,
    )

    now = SystemClock().now().astimezone().replace(tzinfo=None)
    if args.when:
        date_part, time_part = args.when
        parse_date(date_part, "date", now.date())
        if time_part:
            parse_time(time_part, "time")
        if not args.future and is_future(date_part, time_part, now):
            raise FutureEntry(f"The entry is dated {date_part} {time_part}".rstrip()
                              + f", in the future (it is now {now:%Y-%m-%d %H:%M}). Add "
                              "--future if you mean it.", date_part, time_part)
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


# -- edit, delete and star -------------------------------------------------------------------


def cmd_edit(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        if not sys.stdout.isatty():
            raise UsageError("Pipe the new text in (luna edit ID < file), or run it at a "
                             "terminal to open Luna's editor.")
        # Luna's own editor screen, after the app's unlock: never $EDITOR.
        return args.start_app(args, edit_entry=args.entry)
    text = sys.stdin.read()
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.journal import Journal

        session.require_writable("change an entry")
        journal = Journal(session)
        entry = journal.get(journal.resolve(args.entry))
        tags = [*entry.tags, *inline_tags(text)]
        entry = journal.update(entry.id, content=text, tags=tags)
    print(terminal_text(f"Changed the entry of {_when(entry)} ({entry.id[:8]})."))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    if not args.yes and not sys.stdin.isatty():
        _confirmed(args, "")  # refused before the passphrase: nobody can answer
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.journal import Journal

        session.require_writable("delete an entry")
        journal = Journal(session)
        entry = journal.get(journal.resolve(args.entry))
        question = f'Delete the entry of {_when(entry)}, "{_short(entry.display_title, 40)}"?'
        if not _confirmed(args, terminal_text(question)):
            print("Nothing was deleted.")
            return 0
        journal.delete(entry.id)
    print(terminal_text(f"Deleted the entry of {_when(entry)} ({entry.id[:8]})."))
    return 0


def cmd_star(args: argparse.Namespace) -> int:
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.journal import Journal

        session.require_writable("star an entry")
        journal = Journal(session)
        entry = journal.update(journal.resolve(args.entry), favorite=not args.off)
    done = "Took the star from" if args.off else "Starred"
    print(terminal_text(f"{done} the entry of {_when(entry)} ({entry.id[:8]})."))
    return 0


def _when(entry: Entry) -> str:
    return f"{entry.entry_date} {entry.entry_time}".strip()


def _confirmed(args: argparse.Namespace, question: str) -> bool:
    """--yes, or a y at the prompt; without a terminal to ask on, --yes is required."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("Deleting an entry can't be undone; add --yes to confirm.")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


# -- list and search ----------------------------------------------------------------------


JOURNAL_MODULES = ("luna_tui.services.journal", "luna_tui.services.patients",
                   "luna_tui.services.settings")


def cmd_list(args: argparse.Namespace) -> int:
    if args.today_in_history:
        return _list_on_this_day(args)
    filters = _list_filter(args)  # a bad filter is said before the passphrase
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.journal import Journal

        patient_id, patient_name = resolve_patient(session, args.patient)
        entries = Journal(session).page(patient_id, filters, limit=args.n).entries
    if args.json:
        print_json([entry_json(e, patient_name) for e in entries])
    elif not entries and filters != type(filters)():
        print(f"No entries of {terminal_text(patient_name)}'s journal match.")
    elif not entries:
        print(f"{terminal_text(patient_name)}'s journal is empty. Write the first entry with: "
              "luna add (it asks for the text)")
    else:
        for entry in entries:
            print(_entry_line(entry))
    return 0


def _list_on_this_day(args: argparse.Namespace) -> int:
    """`luna list --today-in-history`: this day's entries of earlier years, newest year
    first (services/on_this_day.py)."""
    if args.tag or args.starred or args.date_from or args.date_to or args.mood or args.type:
        raise UsageError("--today-in-history shows every entry of this day in earlier "
                         "years; leave the other filters out.")
    with open_session(args, warm=JOURNAL_MODULES) as session:
        from luna_tui.services.on_this_day import OnThisDay

        patient_id, patient_name = resolve_patient(session, args.patient)
        today = local_today(session.clock)
        entries = OnThisDay(session).entries(patient_id, today, limit=args.n)
    if args.json:
        print_json([entry_json(e, patient_name) for e in entries])
    elif not entries:
        print(f"Nothing in {terminal_text(patient_name)}'s journal was written on "
              f"{today:%-d %B} in earlier years.")
    else:
        for entry in entries:
            print(_entry_line(entry))
    return 0


def _list_filter(args: argparse.Namespace) -> Any:
    """`luna list`'s options as the journal's filter; a bad one is a ValidationError."""
    from luna_tui.services.journal import JOURNAL_TYPES, JournalFilter
    from luna_tui.services.validation import choice, clean_tags, parse_optional_span

    today = local_today(SystemClock())
    start = parse_optional_span(args.date_from, "--from date", today)
    end = parse_optional_span(args.date_to, "--to date", today)
    tags = clean_tags(args.tag)
    low, high, word = _mood_filter(args.mood)
    return JournalFilter(
        tag=tags[0] if tags else None, also_tags=tuple(tags[1:]), favorites_only=args.starred,
        date_from=start[0] if start else None, date_to=end[1] if end else None,
        journal_type=choice(args.type, "journal type", JOURNAL_TYPES) if args.type else None,
        mood=word, mood_scale_from=low, mood_scale_to=high)


def _mood_filter(text: str | None) -> tuple[int | None, int | None, str | None]:
    """--mood 7 (that mood), 3-5 (a range, both ends in), or a word: (low, high, word)."""
    from luna_tui.services.validation import parse_scale

    if not text or not text.strip():
        return None, None, None
    text = text.strip()
    if match := re.fullmatch(r"(\d+)\s*(?:-|–|\.\.)\s*(\d+)", text):
        low = parse_scale(match.group(1), "mood", 1, 10)
        high = parse_scale(match.group(2), "mood", 1, 10)
        if low > high:  # type: ignore[operator]
            low, high = high, low
        return low, high, None
    if re.fullmatch(r"[\d.,]+", text):
        scale = parse_scale(text, "mood", 1, 10)
        return scale, scale, None
    return None, None, text.lower()


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
    parts = [entry.id[:8], when, title, terminal_text(mood), terminal_text(tags), star]
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

    from luna_tui.services.file_import import ImportOptions, prepare_import

    options = ImportOptions(format=args.format, mapping=tuple(args.map),
                            skip_bad=args.skip_bad, daily=args.daily, privacy=args.privacy)
    # The file is checked as far as it can be before the passphrase is asked for.
    with prepare_import(Path(args.file).expanduser(), options) as prepared, \
            open_session(args) as session:
        session.require_writable("import data")
        patient_id = resolve_patient(session, args.patient)[0] if args.patient else None
        with _progress("Importing") as advance:
            summary = prepared.run(session, patient_id, progress=advance)
    print(summary)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from luna_tui.services.export_files import private_output
    from luna_tui.services.exporting import Exporter

    private = args.include_private
    if args.patient and args.format != "fhir":
        raise ValidationError("--patient chooses whose data a FHIR export holds; the json "
                              "and md exports hold every patient's.", "patient")
    with open_session(args) as session:
        exporter = Exporter(session)
        left_out = 0 if private else exporter.private_entries()
        if args.format == "fhir":
            return _export_fhir(args, session, left_out)
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


def _export_fhir(args: argparse.Namespace, session: VaultSession, left_out: int) -> int:
    from luna_tui.services.export_files import private_output
    from luna_tui.services.fhir.exporting import FhirExporter

    patient_id = resolve_patient(session, args.patient)[0] if args.patient else None
    exporter = FhirExporter(session)
    if args.out is None:
        out = _TerminalSafe(sys.stdout) if sys.stdout.isatty() else sys.stdout
        exporter.write(out, patient_id=patient_id, include_private=args.include_private)
        _say_left_out(left_out)
        return 0
    with private_output(args.out) as out:
        counts = exporter.write(out, patient_id=patient_id,
                                include_private=args.include_private)
    print(f"Wrote a FHIR R4 Bundle of {sum(counts.values())} resources to {args.out}. This "
          "file is NOT encrypted: keep it safe, and delete it when you no longer need it.",
          file=sys.stderr)
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
