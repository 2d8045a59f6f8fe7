"""What happens when Luna itself fails: one crash policy for the app, the commands and
any thread of the `luna` process.

An exception nothing else caught is a bug. The person gets one sentence naming the
exception's type and how to report it, and Luna exits with EXIT_CRASH. Nothing else
reaches the terminal: not a traceback, whose local variables and exception messages can
hold vault text (a session title, a journal line quoted in `'…' is not a date`).

With LUNA_DEBUG=1 the traceback goes to a 0600 file in Luna's config folder instead, and
the sentence names it. It keeps what a developer needs and nothing from the vault: for
every exception in the chain, its type, and per frame the file, line number and function,
with the source line only for Luna's own code. Messages, notes, locals and the offending
text of a SyntaxError are left out: the report is built from a whitelist of those fields,
so nothing Python adds to its own tracebacks can slip in.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import traceback

    from luna_tui.clock import Clock

# From BSD's sysexits.h (EX_SOFTWARE, "internal software error"): a script can tell a bug
# in Luna from the errors a person can fix (1-6, luna_tui/errors.py).
EXIT_CRASH = 70
DEBUG_ENV = "LUNA_DEBUG"
# What a crash meant, for the sentence: the app locks the vault on its way out
# (LunaApp._handle_exception); a thread's crash leaves the rest running.
APP_CLOSED = ", so it locked the vault and closed"
IN_A_THREAD = " in a background task"
WHILE_CLEANING_UP = " while cleaning up (Luna went on)"

LUNA_SOURCE = Path(__file__).resolve().parent
WITHHELD = "(message withheld: it can quote the vault)"
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_MAX_REPORTS_A_SECOND = 100  # a name taken means another crash this second: add a number


class _NoReport(Exception):
    """Why no report file could be made; its message is safe to show."""


@dataclass(frozen=True)
class Crash:
    """One unexpected exception, as the person may learn of it."""

    kind: str  # the exception's type, e.g. "ValueError": never its message
    report: Path | None = None  # the report written under LUNA_DEBUG=1
    report_problem: str | None = None  # why that report could not be written


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def record(error: BaseException, *, where: str, clock: Clock | None = None) -> Crash:
    """Name the crash; with LUNA_DEBUG=1, also write its report. Never raises: it runs
    when something has already gone wrong. `where` (the app, a command, a thread) is
    written into the report."""
    crash = Crash(kind=type(error).__name__)
    if not debugging():
        return crash
    folder = _config_folder()
    try:
        text = report_text(error, where=where, clock=clock)
        return Crash(crash.kind, report=_write_private(folder, text, clock))
    except Exception as problem:  # noqa: BLE001 - the crash must still be told
        return Crash(crash.kind, report_problem=_why_not_written(problem, folder))


def sentence(crash: Crash, consequence: str = "") -> str:
    """The one sentence the person reads: what happened, and how to report it.
    `consequence`: what it meant here (", so it locked the vault and closed")."""
    happened = f"something went wrong inside Luna ({crash.kind}){consequence}"
    if crash.report is not None:
        return (f"{happened}; please attach the report {crash.report} to a bug report (it "
                "holds none of your data).")
    if crash.report_problem is not None:
        return f"{happened}; its report could not be written ({crash.report_problem})."
    return (f"{happened}; to report it, run Luna again with {DEBUG_ENV}=1: it then writes a "
            "report without your data and names the file.")


def tell(crash: Crash, consequence: str = "") -> None:
    """Print the sentence on stderr, if there still is one (a reader that left a pipe
    may have closed it)."""
    try:
        print(f"luna: {sentence(crash, consequence)}", file=sys.stderr, flush=True)
    except (AttributeError, OSError, ValueError):
        pass


# -- the whole process -----------------------------------------------------------------


def install_process_hooks() -> None:
    """For the `luna` process: an exception that escapes the main thread or any other
    thread, or that Python could not raise (in a __del__, a finaliser, a callback of the
    garbage collector), follows this policy too, instead of Python's traceback on stderr
    (whose "Exception ignored in: <object>" line prints the object, vault text maybe)."""
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    sys.unraisablehook = _unraisable


def _uncaught(kind: type[BaseException], error: BaseException, _tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        try:
            print("\nluna: cancelled.", file=sys.stderr, flush=True)
        except (AttributeError, OSError, ValueError):
            pass
        return
    tell(record(error, where="the luna process"))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:  # a thread's ordinary way out, silent in Python too
        return
    name = args.thread.name if args.thread is not None else "unknown"
    where = f"a background thread ({name})"
    if args.exc_value is None:
        tell(Crash(kind=args.exc_type.__name__), IN_A_THREAD)
        return
    tell(record(args.exc_value, where=where), IN_A_THREAD)


def _unraisable(args: Any) -> None:  # sys.UnraisableHookArgs
    if args.exc_value is None:
        tell(Crash(kind=args.exc_type.__name__), WHILE_CLEANING_UP)
        return
    tell(record(args.exc_value, where="an exception Python could not raise (unraisable)"),
         WHILE_CLEANING_UP)


# -- the report ------------------------------------------------------------------------


def report_text(error: BaseException, *, where: str, clock: Clock | None = None) -> str:
    import platform

    from luna_tui import __version__
    from luna_tui.clock import SystemClock, utc_timestamp

    moment = (clock or SystemClock()).now()
    header = (
        "Luna crash report\n"
        f"Luna {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"Where: {where}\n"
        f"When: {utc_timestamp(moment)}\n"
        "Nothing from the vault is in this file: no variables, and every exception's "
        "message is withheld.\n\n"
    )
    return header + traceback_text(error)


def traceback_text(error: BaseException) -> str:
    """The traceback of `error` and of every exception in its chain, oldest first, laid
    out as Python prints it, but with only the whitelisted fields (module docstring)."""
    import traceback

    top = traceback.TracebackException.from_exception(error, capture_locals=False)
    return "".join(_chain_lines(top))


def _chain_lines(top: traceback.TracebackException) -> Iterator[str]:
    # The same walk as TracebackException.format(): from the newest exception back
    # through __cause__ (or an unsuppressed __context__), printed oldest first. The
    # constructor has already cut any cycle.
    chain: list[tuple[str, traceback.TracebackException]] = []
    link: str = ""
    current: traceback.TracebackException | None = top
    while current is not None:
        chain.append((link, current))
        if current.__cause__ is not None:
            link, current = _CAUSE, current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            link, current = _CONTEXT, current.__context__
        else:
            current = None
    for index, (_, exception) in enumerate(reversed(chain)):
        if index:
            yield chain[len(chain) - index][0]
        yield from _exception_lines(exception)


def _exception_lines(exception: traceback.TracebackException) -> Iterator[str]:
    if exception.stack:
        yield "Traceback (most recent call last):\n"
        yield from _frame_lines(exception.stack)
    yield f"{_type_name(exception)}: {WITHHELD}\n"
    members = getattr(exception, "exceptions", None) or []  # an ExceptionGroup's
    for number, member in enumerate(members, 1):
        yield f"\n+---- exception {number} of {len(members)} in the group above ----\n"
        for line in _chain_lines(member):
            yield f"| {line}"


def _frame_lines(stack: traceback.StackSummary) -> Iterator[str]:
    previous, repeats = None, 0
    for frame in stack:
        here = (frame.filename, frame.lineno, frame.name)
        if here == previous:
            repeats += 1  # deep recursion: one line, as Python prints it
            continue
        if repeats:
            yield f"  [Previous line repeated {repeats} more times]\n"
        previous, repeats = here, 0
        yield f'  File "{_shown_path(frame.filename)}", line {frame.lineno}, in {frame.name}\n'
        if _is_luna_source(frame.filename) and frame.line:
            yield f"    {frame.line.strip()}\n"
    if repeats:
        yield f"  [Previous line repeated {repeats} more times]\n"


def _type_name(exception: traceback.TracebackException) -> str:
    named = getattr(exception, "exc_type_str", None)  # Python 3.13+
    if named:
        return str(named)
    kind = exception.exc_type
    if kind is None:
        return "unknown exception"
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _is_luna_source(filename: str) -> bool:
    """Luna's own code, whose lines are fine to show; a caller's (a test, a script that
    patched Luna) may hold anything."""
    try:
        return Path(filename).resolve().is_relative_to(LUNA_SOURCE)
    except (OSError, ValueError):
        return False


def _shown_path(filename: str) -> str:
    """`luna_tui/ui/app.py`, `textual/app.py`: relative to the folder Luna or the import
    path holding it is in, so a report does not carry the person's home folder."""
    if _is_luna_source(filename):
        return Path(filename).resolve().relative_to(LUNA_SOURCE.parent).as_posix()
    homes = sorted((p for p in sys.path if p and os.path.isabs(p)), key=len, reverse=True)
    for home in homes:
        prefix = home.rstrip(os.sep) + os.sep
        if filename.startswith(prefix):
            return filename[len(prefix):]
    return filename


# -- the file --------------------------------------------------------------------------


def _config_folder() -> Path | None:
    try:
        from luna_tui.config_dir import config_dir

        return config_dir()
    except Exception:  # noqa: BLE001 - no folder is a reason told in the sentence
        return None


def _write_private(folder: Path | None, text: str, clock: Clock | None) -> Path:
    """Write `text` to a new 0600 file `crash-<UTC time>-<pid>.txt` in `folder` (0700)."""
    from luna_tui.clock import SystemClock
    from luna_tui.home import PRIVATE_FILE_MODE, ensure_private_dir

    if folder is None:
        raise _NoReport("Luna's config folder could not be found")
    ensure_private_dir(folder)
    stem = f"crash-{(clock or SystemClock()).now():%Y%m%d-%H%M%S}-{os.getpid()}"
    for attempt in range(1, _MAX_REPORTS_A_SECOND + 1):
        path = folder / (f"{stem}.txt" if attempt == 1 else f"{stem}-{attempt}.txt")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # whatever the umask said
            file.write(text)
        return path
    raise _NoReport(f"{folder} already holds {_MAX_REPORTS_A_SECOND} reports of this second")


def _why_not_written(problem: Exception, folder: Path | None) -> str:
    """The reason, without an exception's message (an OSError's is its strerror and the
    path, both safe; anything else is named by type only)."""
    if isinstance(problem, _NoReport):
        return str(problem)
    if isinstance(problem, OSError):
        return f"{folder}: {problem.strerror or type(problem).__name__}"
    from luna_tui.errors import LunaError

    if isinstance(problem, LunaError):  # ensure_private_dir's own sentence
        return str(problem).rstrip(".")
    return f"{type(problem).__name__} in {folder}"
