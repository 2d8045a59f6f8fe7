"""`luna streak` and `luna templates`: the small habits from the shell.

`luna streak` says how many days in a row the journal was written and every dose
taken (services/streaks.py has the rules). `luna templates` lists, adds, changes and
deletes the entry templates `luna add --template NAME` and the app's `n` write from.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from luna_tui.cli.journal_commands import print_json, resolve_patient
from luna_tui.cli.json_rows import with_patient
from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.cli.vault_commands import open_session
from luna_tui.clock import local_today
from luna_tui.errors import UsageError
from luna_tui.terminal_text import terminal_text

if TYPE_CHECKING:
    from luna_tui.services.entry_templates import TemplateView

TEMPLATE_MODULES = ("luna_tui.services.entry_templates",)
STREAK_MODULES = ("luna_tui.services.streaks", "luna_tui.services.patients",
                  "luna_tui.services.settings")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    streak = commands.add_parser(
        "streak", parents=[common], help="days journaled and doses taken in a row",
        description="Days in a row with a journal entry (ending today, or yesterday while "
        "today has none yet) and the longest such run; days in a row every scheduled dose "
        "was taken (a dose logged skipped, or a day without one, neither counts nor "
        "breaks; a missed or unlogged dose breaks; today counts once all its doses are "
        "logged).")
    streak.add_argument("--patient", metavar="NAME", help="whose (default: the current)")
    streak.add_argument("--json", action="store_true", help="print JSON")
    streak.set_defaults(handler=cmd_streak)

    templates = commands.add_parser(
        "templates", parents=[common], help="list, add, change and delete entry templates",
        description="Entry templates: a title pattern, a body of headings and prompts, "
        "default tags, a type, and whether mood and sleep are asked. `luna add --template "
        "NAME` and the app's n write from them. {date}, {weekday} and {time} in the title "
        "and body are filled in when an entry is started.")
    templates.add_argument("--json", action="store_true", help="print JSON")
    templates.set_defaults(handler=cmd_templates)
    actions = templates.add_subparsers(dest="templates_action", metavar="ACTION",
                                       parser_class=LunaArgumentParser)
    listing = actions.add_parser("list", parents=[common], help="list the templates")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_templates)

    add = actions.add_parser(
        "add", parents=[common], help="add a template",
        description="Add a template; its body is piped in (luna templates add NAME < "
        "body.md) or typed at the prompt (finish with Ctrl-D).")
    add.add_argument("name", metavar="NAME", help='its name ("quote" two words)')
    _template_options(add, defaults=True)
    add.set_defaults(handler=cmd_templates_add)

    change = actions.add_parser(
        "edit", parents=[common], help="change a template",
        description="Change a template's fields; piped in, the text replaces its body.")
    change.add_argument("template", metavar="NAME", help="the template (its name's start)")
    change.add_argument("--name", metavar="NEW", help="a new name")
    _template_options(change, defaults=False)
    change.set_defaults(handler=cmd_templates_edit)

    delete = actions.add_parser("delete", parents=[common], help="delete a template",
                                description="Delete a template; entries written from it "
                                "stay as they are. It asks first at a terminal, and a "
                                "script must say --yes.")
    delete.add_argument("template", metavar="NAME")
    delete.add_argument("--yes", action="store_true", help="don't ask first")
    delete.set_defaults(handler=cmd_templates_delete)


def _template_options(command: argparse.ArgumentParser, *, defaults: bool) -> None:
    command.add_argument("--title", metavar="PATTERN", help='e.g. "Evening {weekday}"')
    command.add_argument("--tag", action="append", default=None, metavar="T",
                         help="a default tag (repeat for more"
                         + ("" if defaults else "; replaces the template's") + ")")
    command.add_argument("--type", dest="journal_type", metavar="TYPE",
                         help="free, prompted or mood_check" + (" (default free)"
                                                                  if defaults else ""))
    command.add_argument("--prompt", metavar="QUESTION", help="a prompted template's question")
    command.add_argument("--ask-mood", dest="asks_mood", action=argparse.BooleanOptionalAction,
                         default=True if defaults else None,
                         help="show the mood fields" + (" (default: yes)" if defaults else ""))
    command.add_argument("--ask-sleep", dest="asks_sleep",
                         action=argparse.BooleanOptionalAction,
                         default=True if defaults else None,
                         help="show the sleep field" + (" (default: yes)" if defaults else ""))


# -- streak -----------------------------------------------------------------------------


def cmd_streak(args: argparse.Namespace) -> int:
    with open_session(args, warm=STREAK_MODULES) as session:
        from luna_tui.services.streaks import StreakCounter

        patient_id, patient_name = resolve_patient(session, args.patient)
        streaks = StreakCounter(session).streaks(patient_id, local_today(session.clock))
    if args.json:
        print_json(with_patient(streaks.as_json(), patient_id, patient_name))
        return 0
    name = terminal_text(patient_name)
    days = _days(streaks.journal_current)
    if streaks.journal_longest:
        today = "" if streaks.journaled_today else " (nothing written today yet)"
        print(f"Journal: {days} in a row{today}; the longest {_days(streaks.journal_longest)}.")
    else:
        print(f"Journal: {name}'s journal is empty: luna add writes the first entry.")
    if streaks.has_schedule:
        print(f"Doses: every scheduled dose taken {_days(streaks.doses_current)} in a row.")
    else:
        print("Doses: no medication has scheduled doses (luna meds add … --schedule 08:00,20:00).")
    return 0


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


# -- templates --------------------------------------------------------------------------


def cmd_templates(args: argparse.Namespace) -> int:
    with open_session(args, warm=TEMPLATE_MODULES) as session:
        from luna_tui.services.entry_templates import EntryTemplates

        templates = EntryTemplates(session).list()
    if args.json:
        print_json([template_json(t) for t in templates])
    elif not templates:
        print("No templates yet. Add one: luna templates add NAME --title \"Evening "
              "{date}\" --tag evening < body.md")
    else:
        for template in templates:
            tags = " ".join(f"#{tag}" for tag in template.tags)
            parts = [template.name.ljust(24), (template.title or "").ljust(30),
                     template.journal_type.ljust(10), tags]
            print(terminal_text("  ".join(parts).rstrip()))
    return 0


def template_json(template: TemplateView) -> dict[str, Any]:
    return {"id": template.id, "name": template.name, "title": template.title,
            "body": template.body, "tags": list(template.tags),
            "journal_type": template.journal_type, "prompt": template.prompt,
            "asks_mood": template.asks_mood, "asks_sleep": template.asks_sleep}


def cmd_templates_add(args: argparse.Namespace) -> int:
    body = _piped_body() if not sys.stdin.isatty() else None
    with open_session(args, warm=TEMPLATE_MODULES) as session:
        from luna_tui.services.entry_templates import EntryTemplates

        session.require_writable("save a template")
        if body is None:
            body = _typed_body()
        made = EntryTemplates(session).create(args.name, body=body, **_fields(args))
    print(terminal_text(f"Added the template '{made.name}': luna add --template "
                        f"\"{made.name}\" writes from it."))
    return 0


def cmd_templates_edit(args: argparse.Namespace) -> int:
    changes = _fields(args)
    if args.name is not None:
        changes["name"] = args.name
    if not sys.stdin.isatty():
        changes["body"] = _piped_body()
    if not changes:
        raise UsageError("Say what to change (--name, --title, --tag, --type, --prompt, "
                         "--ask-mood, --ask-sleep), or pipe in a new body.")
    with open_session(args, warm=TEMPLATE_MODULES) as session:
        from luna_tui.services.entry_templates import EntryTemplates

        session.require_writable("change a template")
        templates = EntryTemplates(session)
        changed = templates.update(templates.find(args.template).id, **changes)
    print(terminal_text(f"Changed the template '{changed.name}'."))
    return 0


def cmd_templates_delete(args: argparse.Namespace) -> int:
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("Deleting a template can't be undone; add --yes to confirm.")
    with open_session(args, warm=TEMPLATE_MODULES) as session:
        from luna_tui.services.entry_templates import EntryTemplates

        session.require_writable("delete a template")
        templates = EntryTemplates(session)
        template = templates.find(args.template)
        if not args.yes:
            question = terminal_text(f"Delete the template '{template.name}'? [y/N] ")
            if input(question).strip().lower() not in ("y", "yes"):
                print("Nothing was deleted.")
                return 0
        templates.delete(template.id)
    print(terminal_text(f"Deleted the template '{template.name}'; entries written from it "
                        "stay as they are."))
    return 0


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The options given, as the service's fields (an option left out: unchanged)."""
    fields = {name: getattr(args, name) for name in ("title", "journal_type", "prompt",
                                                      "asks_mood", "asks_sleep")}
    fields["tags"] = args.tag
    return {name: value for name, value in fields.items() if value is not None}


def _piped_body() -> str:
    return sys.stdin.read()


def _typed_body() -> str:
    """The body typed at the prompt (empty is fine: a template of title and tags)."""
    from luna_tui.cli.secrets_input import terminal_available

    if not terminal_available():
        return ""
    print("Type the body: headings and prompts to write under ({date}, {weekday} and "
          "{time} are filled in). Finish with Ctrl-D on an empty line:", file=sys.stderr)
    lines = []
    try:
        while True:
            lines.append(input())
    except EOFError:
        pass
    return "\n".join(lines)
