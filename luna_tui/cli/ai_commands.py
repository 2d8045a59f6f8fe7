"""`luna ask`, `luna ai config` and `luna stats`: the AI companion from the shell.

`ask` keeps every question and answer as a session (its id is printed on stderr, so
`--session ID` continues it); the person's question is saved before the model is asked,
so a failure loses nothing typed. The API key is read from a no-echo prompt or
LUNA_AI_KEY, never from an argument, which would land in shell history and `ps`.
"""

from __future__ import annotations

import argparse
import os
import sys

from luna_tui.cli.journal_commands import print_json, resolve_patient
from luna_tui.cli.parsing import LunaArgumentParser
from luna_tui.cli.vault_commands import open_session
from luna_tui.errors import UsageError
from luna_tui.terminal_text import terminal_text

AI_KEY_ENV = "LUNA_AI_KEY"
AI_MODULES = ("luna_tui.services.ai.sending", "luna_tui.services.ai.personas",
              "luna_tui.ai.provider", "luna_tui.services.settings",
              "luna_tui.services.patients")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ask = commands.add_parser(
        "ask", parents=[common], help="ask the AI companion",
        description="Ask the AI companion a question (from QUESTION, else from stdin). The "
        "answer streams as it arrives and is kept as a session; its id is printed on "
        "stderr, so --session ID continues the conversation. Private journal entries are "
        "never sent.",
    )
    ask.add_argument("question", nargs="*", metavar="QUESTION")
    ask.add_argument("--persona", metavar="NAME", help="who answers (default: Journal "
                     "companion); a new session only")
    ask.add_argument("--session", metavar="ID", help="continue this session")
    ask.add_argument("--no-stream", action="store_true",
                     help="print the answer only once it is complete")
    ask.add_argument("--patient", metavar="NAME",
                     help="about whom (default: the current patient); a new session only")
    ask.set_defaults(handler=cmd_ask)

    ai = commands.add_parser(
        "ai", parents=[common], help="set up the AI companion",
        description="The AI companion's model: `luna ai config` shows and changes it.")
    actions = ai.add_subparsers(dest="ai_action", metavar="ACTION",
                                parser_class=LunaArgumentParser)
    config = actions.add_parser(
        "config", parents=[common], help="show or change the AI model settings",
        description="With no options, show the settings. The key is read from a prompt "
        f"(no echo) or {AI_KEY_ENV}, never from the command line.")
    config.add_argument("--base-url", metavar="URL",
                        help="an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434")
    config.add_argument("--model", metavar="NAME", help="the model, e.g. llama3.2")
    config.add_argument("--allow-remote", action=argparse.BooleanOptionalAction, default=None,
                        help="allow an endpoint on another machine (health data leaves "
                        "this machine)")
    config.add_argument("--key", action="store_true",
                        help=f"set the API key (asked for, or taken from {AI_KEY_ENV})")
    config.add_argument("--clear-key", action="store_true", help="forget the API key")
    config.add_argument("--timeout", metavar="SECONDS",
                        help="how long to wait for the model to connect or send more")
    config.set_defaults(handler=cmd_ai_config)
    ai.set_defaults(handler=_ai_usage)

    stats = commands.add_parser(
        "stats", parents=[common], help="AI usage: requests, tokens, finish reasons",
        description="AI usage for today, this month and last month, from stats.db.")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(handler=cmd_stats)


def _ai_usage(_args: argparse.Namespace) -> int:
    raise UsageError("Say what to do: `luna ai config`.")


# -- ask ----------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question).strip() if args.question else ""
    if not question and not sys.stdin.isatty():
        question = sys.stdin.read().strip()
    if not question:
        raise UsageError('Ask something: luna ask "How did I sleep this week?" (or pipe it in).')
    if args.session and (args.persona or args.patient):
        raise UsageError("--persona and --patient choose a new session; leave them out "
                         "with --session.")
    with open_session(args, warm=AI_MODULES) as session:
        from luna_tui.services.ai.personas import Personas
        from luna_tui.services.ai.sending import Sender
        from luna_tui.services.ai.sessions import ChatSessions

        session.require_writable("chat with the AI companion")
        if args.session:
            chat_session = ChatSessions(session).get(args.session)
        else:
            patient_id, _ = resolve_patient(session, args.patient)
            persona_id = Personas(session).find(args.persona).id if args.persona else None
            chat_session = ChatSessions(session).create(patient_id, persona_id)
        streamed = []

        def on_delta(text: str) -> None:
            streamed.append(text)
            if not args.no_stream:  # the model's words, which may quote the vault: text only
                sys.stdout.write(terminal_text(text, multiline=True))
                sys.stdout.flush()

        try:
            outcome = Sender(session).send(chat_session.id, question, on_delta=on_delta)
        finally:
            if streamed and not args.no_stream:
                sys.stdout.write("\n")
                sys.stdout.flush()
            print(f"luna: session {chat_session.id} (continue with: luna ask --session "
                  f"{chat_session.id})", file=sys.stderr)
    if args.no_stream:
        print(terminal_text(outcome.result.text, multiline=True))
    if outcome.result.finish_reason == "length":
        print("luna: note: the answer was cut at the persona's token limit.", file=sys.stderr)
    return 0


# -- ai config ----------------------------------------------------------------------------


def cmd_ai_config(args: argparse.Namespace) -> int:
    from luna_tui.ai.provider import is_loopback
    from luna_tui.services.settings import Settings

    if args.key and args.clear_key:
        raise UsageError("Choose --key or --clear-key, not both.")
    changes: list[tuple[str, object]] = []
    if args.base_url is not None:
        changes.append(("ai.base_url", args.base_url))
    if args.model is not None:
        changes.append(("ai.model", args.model))
    if args.allow_remote is not None:
        changes.append(("ai.allow_remote", args.allow_remote))
    if args.timeout is not None:
        changes.append(("ai.timeout_seconds", args.timeout))
    if args.clear_key:
        changes.append(("ai.api_key", ""))
    key = _read_key() if args.key else None
    if key is not None:
        changes.append(("ai.api_key", key))
    with open_session(args, warm=("luna_tui.services.settings",)) as session:
        settings = Settings(session)
        if changes:
            session.require_writable("change the AI settings")
        for name, value in changes:
            settings.set(name, value)
        base_url = settings.get("ai.base_url")
        allow_remote = bool(settings.get("ai.allow_remote"))
        shown = {
            "ai.base_url": base_url,
            "ai.model": settings.get("ai.model"),
            "ai.api_key": "(set)" if settings.get("ai.api_key") else "(not set)",
            "ai.allow_remote": "on" if allow_remote else "off",
            "ai.timeout_seconds": settings.get("ai.timeout_seconds"),
        }
    for name, value in shown.items():
        print(f"{name} = {terminal_text(value)}")
    local = is_loopback(base_url)
    if not local and not allow_remote:
        print("luna: note: this endpoint is not on this machine; Luna will not send it "
              "anything until you run `luna ai config --allow-remote`.", file=sys.stderr)
    elif not local:
        print("luna: warning: remote endpoint allowed: what you ask, with your health data "
              "(except private journal entries), leaves this machine.", file=sys.stderr)
    return 0


def _read_key() -> str:
    from luna_tui.cli.secrets_input import prompt_secret, terminal_available

    if os.environ.get(AI_KEY_ENV):
        return os.environ[AI_KEY_ENV].strip()
    if not terminal_available():
        raise UsageError(f"Luna needs the API key and there is no terminal to ask on; set "
                         f"{AI_KEY_ENV}.")
    key = prompt_secret("API key: ").strip()
    if not key:
        raise UsageError("No key given; nothing was changed.")
    return key


# -- stats --------------------------------------------------------------------------------


def cmd_stats(args: argparse.Namespace) -> int:
    with open_session(args, warm=("luna_tui.services.ai.usage",)) as session:
        from luna_tui.services.ai.usage import AiUsage

        periods = AiUsage(session).periods()
    if args.json:
        print_json([{"period": p.label, "from": p.start, "to": p.end, "requests": p.requests,
                     "failed": p.failed, "prompt_tokens": p.prompt_tokens,
                     "completion_tokens": p.completion_tokens,
                     "finish_reasons": p.finish_reasons} for p in periods])
        return 0
    print(f"{'period':<12} {'requests':>8} {'failed':>6} {'prompt':>9} {'completion':>10}  "
          "finish reasons")
    for p in periods:
        reasons = terminal_text(", ".join(f"{name} {count}"
                                          for name, count in p.finish_reasons.items()))
        print(f"{p.label:<12} {p.requests:>8} {p.failed:>6} {p.prompt_tokens:>9} "
              f"{p.completion_tokens:>10}  {reasons or '-'}")
    print("Tokens are the model's own counts, or estimated at 4 characters a token when it "
          "sends none.")
    return 0
