"""The Luna agent: one process that holds one vault unlocked and runs commands for its
user, so a sitting pays the key derivation once (`luna unlock`; see README, Security).

The key never leaves this process. A client sends a command's words, its working
folder, environment and terminal flags; the agent runs the command itself through
`luna_tui.cli.main.run_here` with sys.stdin/stdout/stderr replaced by streams over the
socket, and sends back the exit code. Prompts (a confirmation, a passphrase for a new
key, text typed at the prompt) travel over the same socket to the client's terminal.

sys.stdout, os.environ, the working folder and the time zone are global to a process,
so commands run one at a time under `command_lock`; `status`, `lock` and the like are
answered at once from their own threads.

The agent ends at its time limit, after its idle limit, at `luna lock`, when the app
locks explicitly (it asks over the socket), when a restore or a passphrase change
tells it to (or it finds the vault's files replaced), and on SIGTERM. Started by
`luna agent --wait` it only locks and waits for the next `luna unlock`; started by
`luna unlock` it exits. Background work (the reminders' scheduler) joins through
`jobs`: each is started at every unlock with an `AgentVault` and stopped at the lock.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from luna_tui import agent_link
from luna_tui.clock import Clock, SystemClock
from luna_tui.errors import EXIT_KEY, EXIT_USAGE, LunaError, UsageError
from luna_tui.home import VaultLayout

ACCEPT_TICK_SECONDS = 0.5
HANDLER_PATIENCE_SECONDS = 5.0


# -- how long it holds the key ---------------------------------------------------------


@dataclass
class AgentLife:
    """When an unlocked agent locks: `for_seconds` after the unlock, or `idle_seconds`
    after the last command (0: no idle limit). Pure: the clock is passed in."""

    for_seconds: float
    idle_seconds: float
    unlocked_at: dt.datetime
    last_used: dt.datetime = field(init=False)

    def __post_init__(self) -> None:
        self.last_used = self.unlocked_at

    def touch(self, now: dt.datetime) -> None:
        self.last_used = now

    def until(self) -> dt.datetime:
        """The moment it locks if nothing more is asked."""
        limit = self.unlocked_at + dt.timedelta(seconds=self.for_seconds)
        if self.idle_seconds:
            limit = min(limit, self.last_used + dt.timedelta(seconds=self.idle_seconds))
        return limit

    def over(self, now: dt.datetime) -> str | None:
        """Why it must lock now, or None."""
        if now >= self.unlocked_at + dt.timedelta(seconds=self.for_seconds):
            return "its time limit passed"
        if self.idle_seconds and now >= self.last_used + dt.timedelta(seconds=self.idle_seconds):
            return "it was idle too long"
        return None


# -- background work -------------------------------------------------------------------


class Job(Protocol):
    def stop(self) -> None: ...


class AgentVault:
    """What a background job gets at an unlock: the vault's work, run between commands."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """`fn(session)` under the command lock; LunaError if the agent has locked."""
        with self._agent.command_lock:
            session = self._agent.session
            if session is None:
                raise LunaError(agent_link.LOCKED_SENTENCE)
            return fn(session)


# -- streams over the socket -----------------------------------------------------------


class Channel:
    """One client's connection while a command runs: output is gathered and sent in
    frames, stdout and stderr in the order written."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._kind: str | None = None
        self._pending: list[str] = []
        self._size = 0

    def write(self, kind: str, text: str) -> None:
        if kind != self._kind:
            self.flush()
            self._kind = kind
        self._pending.append(text)
        self._size += len(text)
        if self._size > 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            data = "".join(self._pending)
            self._pending, self._size = [], 0
            agent_link.send(self.sock, {"op": self._kind, "data": data})

    def ask(self, message: dict) -> str:
        """Send a request (a read, a secret) and wait for the client's text."""
        self.flush()
        agent_link.send(self.sock, message)
        answer = agent_link.receive(self.sock)
        if answer is None:
            raise KeyboardInterrupt  # the client went away (Ctrl-C): the command stops
        return str(answer.get("data", ""))


class OutStream(io.TextIOBase):
    """The client's stdout or stderr: a terminal if the client's is, in its encoding (Rich
    draws its tables by both)."""

    def __init__(self, channel: Channel, kind: str, tty: bool, encoding: str) -> None:
        self._channel, self._kind, self._tty = channel, kind, tty
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._channel.write(self._kind, text)
        return len(text)

    def flush(self) -> None:
        self._channel.flush()

    def isatty(self) -> bool:
        return self._tty


class InStream(io.TextIOBase):
    def __init__(self, channel: Channel, tty: bool, encoding: str) -> None:
        self._channel, self._tty = channel, tty
        self._encoding = encoding
        self._ended = False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def readable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._tty

    def read(self, size: int | None = -1) -> str:
        if self._ended:
            return ""
        self._ended = True
        return self._channel.ask({"op": "read"})

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self._ended:
            return ""
        line = self._channel.ask({"op": "read", "line": True})
        if not line:
            self._ended = True
        return line


# -- the agent -------------------------------------------------------------------------


# Commands the agent refuses (the client runs them itself; see agent_client.py).
REFUSED = ({"init", "passwd", "bench", "unlock", "lock", "agent"},
           {("backup", "restore"), ("keys", "rotate")})


def harden_process() -> None:
    """No core dumps, no ptrace attach by other processes of this user (Linux); the
    key's pages are still copied by Python and SQLCipher: see README, Security."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_dumpable = 4
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


class Agent:
    def __init__(self, layout: VaultLayout, run_here: Callable[..., int], *,
                 clock: Clock | None = None,
                 exit_when_locked: bool = False,
                 read_uid: Callable[[socket.socket], int] = agent_link.peer_uid,
                 jobs: list[Callable[[AgentVault], Job]] | None = None,
                 report: Callable[[str], None] | None = None) -> None:
        self.layout = layout
        self.run_here = run_here  # main.py's: one command in this process
        self.clock = clock or SystemClock()
        self.exit_when_locked = exit_when_locked
        self.read_uid = read_uid
        self.job_factories = list(jobs or [])
        self.report = report or (lambda text: None)
        self.socket_path = Path(agent_link.socket_path(layout.home))
        self.command_lock = threading.RLock()
        self.stopping = threading.Event()
        self.session: Any = None
        self.life: AgentLife | None = None
        self._vault_id: tuple[int, int] | None = None
        self._jobs: list[Job] = []
        self._handlers: list[threading.Thread] = []
        self._socket_id: tuple[int, int] | None = None  # the socket file it bound
        self._listener: socket.socket | None = None

    # -- the socket -------------------------------------------------------------------

    def bind(self) -> str | None:
        """Make the folder and the socket; a note if a stale socket was removed.
        AgentRunning if an agent already answers there."""
        agent_link.private_folder(self.socket_path.parent, create=True)
        note = None
        try:
            existing = agent_link.connect(self.layout.home)
        except agent_link.Stale:
            existing = None
            note = ("Removed the socket of a Luna agent that is gone (it was killed); "
                    "starting a new one.")
        if existing is not None:
            existing.close()
            raise agent_link.AgentRunning(
                f"A Luna agent already runs for {self.layout.home}; `luna agent status` "
                "says more, `luna lock` ends it.")
        # Bound under a name of its own, listening, then renamed into place: a client
        # polling for the agent (`luna unlock` after spawning it) that found the socket
        # bound but not yet listening took it for a dead agent's and removed it, and the
        # agent died on its chmod (FileNotFoundError, once in CI).
        fresh = self.socket_path.with_name(f"{os.getpid()}.new")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(fresh)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(fresh))
        finally:
            os.umask(old_umask)
        os.chmod(fresh, 0o600)
        listener.listen(16)
        os.rename(fresh, self.socket_path)
        info = os.lstat(self.socket_path)
        self._socket_id = (info.st_dev, info.st_ino)
        listener.settimeout(ACCEPT_TICK_SECONDS)
        self._listener = listener
        return note

    def serve(self) -> None:
        """Answer connections until told to stop; locks when its time is over."""
        assert self._listener is not None, "bind() first"
        try:
            while not self.stopping.is_set():
                self.check_life()
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self.stopping.is_set():
                        break
                    raise
                handler = threading.Thread(target=self.handle, args=(conn,), daemon=True,
                                           name="luna-agent-client")
                self._handlers = [t for t in self._handlers if t.is_alive()] + [handler]
                handler.start()
        finally:
            self.shutdown()
            # The answers under way (to `luna lock`, say) are sent before the process
            # ends; one waiting on a person's typing is not waited for long.
            deadline = time.monotonic() + HANDLER_PATIENCE_SECONDS
            for handler in self._handlers:
                handler.join(max(0.0, deadline - time.monotonic()))

    def shutdown(self) -> None:
        self.stopping.set()
        self.lock("the agent ended")
        self._remove_socket()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def check_life(self) -> None:
        life = self.life
        if life is not None and self.session is not None:
            reason = life.over(self.clock.now())
            if reason:
                self.lock(reason)

    # -- unlocking and locking --------------------------------------------------------

    @property
    def unlocked(self) -> bool:
        return self.session is not None

    def unlock(self, secret: str, for_seconds: float, idle_seconds: float) -> list[str]:
        """Derive, open the vault and hold it; the notes the person should read."""
        from luna_tui.services.vault_session import VaultSession
        from luna_tui.store.vault_swap import finish_interrupted_swap
        from luna_tui.terminal_text import terminal_text
        from luna_tui.vault.key_manager import KeyManager

        with self.command_lock:
            if self.session is not None:
                raise agent_link.AgentRunning(self.running_sentence())
            finish_interrupted_swap(self.layout)
            self.layout.require_vault()
            unlocked = KeyManager(self.layout, self.clock).unlock(secret)
            session = VaultSession.connect(self.layout, unlocked, clock=self.clock,
                                           client="agent")
            self.session = session
            self.life = AgentLife(for_seconds, idle_seconds, self.clock.now())
            self._vault_id = self._vault_identity()
            notes = []
            if session.failed_unlocks:
                count = len(session.failed_unlocks)
                latest = terminal_text(session.failed_unlocks[-1].created_at)
                notes.append(f"note: {count} failed unlock attempt{'s' if count > 1 else ''} "
                             f"since the last unlock (the latest at {latest} UTC).")
            notes.extend(f"warning: {terminal_text(w)}" for w in session.warnings)
            vault = AgentVault(self)
            self._jobs = [factory(vault) for factory in self.job_factories]
            self.report(f"unlocked with the {session.key.role} key")
            return notes

    def lock(self, reason: str) -> bool:
        """Drop the key (the session records the lock); True if it held one. An agent
        that ends at its lock removes its socket first: a command asked meanwhile
        unlocks by itself instead of finding it locked."""
        with self.command_lock:
            # The stop, the socket, the jobs and the key in one step: of two locks at
            # once (`luna lock`, and the shutdown its stop starts), one finds them all
            # and says so, the other finds nothing.
            if self.exit_when_locked:
                self.stopping.set()
                self._remove_socket()
            jobs, self._jobs = self._jobs, []
            session, self.session, self.life = self.session, None, None
        for job in jobs:  # outside the lock: a job's last call may be waiting for it
            with contextlib.suppress(Exception):
                job.stop()
        if session is None:
            return False
        with self.command_lock:
            session.close()
            self.report(f"locked: {reason}")
        return True

    def _remove_socket(self) -> None:
        """Remove this agent's socket, only if the file is still its own: a new agent
        may have bound the same path while this one was ending."""
        if self._socket_id is None:
            return
        with contextlib.suppress(FileNotFoundError):
            info = os.lstat(self.socket_path)
            if (info.st_dev, info.st_ino) == self._socket_id:
                os.unlink(self.socket_path)
        self._socket_id = None

    def _key_expired(self) -> bool:
        from luna_tui.clock import local_today

        expiry = self.session.key.expiry_date
        return expiry is not None and local_today(self.clock) > expiry

    def _vault_identity(self) -> tuple[int, int] | None:
        """luna.db's inode and device: a restore swaps the file in, so they change."""
        try:
            info = os.stat(self.layout.main_db)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def status(self) -> dict:
        if self.session is None or self.life is None:
            return {"ok": True, "unlocked": False, "vault": str(self.layout.home),
                    "pid": os.getpid()}
        key = self.session.key
        return {"ok": True, "unlocked": True, "vault": str(self.layout.home),
                "pid": os.getpid(), "role": key.role, "label": key.label, "kind": key.kind,
                "until": self.life.until().isoformat(),
                "limit": (self.life.unlocked_at
                          + dt.timedelta(seconds=self.life.for_seconds)).isoformat()}

    def running_sentence(self) -> str:
        return (f"A Luna agent already holds {self.layout.home} unlocked; `luna agent status` "
                "says until when, `luna lock` ends it.")

    # -- one connection ---------------------------------------------------------------

    def handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                agent_link.check_peer(conn, self.read_uid)
            except agent_link.PeerRefused as refused:
                self.report(str(refused))
                return
            try:
                message = agent_link.receive(conn)
                if message is None:
                    return
                self.answer(conn, message)
            except (OSError, ValueError):
                return  # the client went away

    def answer(self, conn: socket.socket, message: dict) -> None:
        op = message.get("op")
        if op == "status":
            agent_link.send(conn, self.status())
        elif op == "unlock":
            agent_link.send(conn, self._unlock_answer(message))
        elif op == "end":
            held = self.lock(str(message.get("reason", "asked to end")))
            agent_link.send(conn, {"ok": True, "held": held})
        elif op == "run":
            self.run_command(conn, message)
        elif op == "app_unlock":
            agent_link.send(conn, self._app_unlock_answer())
        else:
            agent_link.send(conn, {"ok": False, "error": f"unknown request {op!r}"})

    def _unlock_answer(self, message: dict) -> dict:
        try:
            notes = self.unlock(str(message.get("secret", "")),
                                float(message.get("for", 8 * 3600)),
                                float(message.get("idle", 0)))
        except LunaError as error:
            if self.exit_when_locked and self.session is None:
                self.stopping.set()  # started for this unlock, which failed
                self._remove_socket()
            return {"ok": False, "error": str(error), "exit": error.exit_code}
        return {**self.status(), "notes": notes}

    def _app_unlock_answer(self) -> dict:
        """Only with `agent.unlocks_app` on: see services/agent_handoff.py."""
        from luna_tui.services.agent_handoff import key_for_app

        with self.command_lock:
            if self.session is None:
                return {"ok": False, "error": agent_link.LOCKED_SENTENCE}
            try:
                return key_for_app(self.session)
            except LunaError as error:
                return {"ok": False, "error": str(error)}

    # -- running a command ------------------------------------------------------------

    def run_command(self, conn: socket.socket, message: dict) -> None:
        channel = Channel(conn)
        with self.command_lock:
            code = self._run_locked(channel, message)
        with contextlib.suppress(OSError):
            channel.flush()
            agent_link.send(conn, {"op": "exit", "code": code})

    def _run_locked(self, channel: Channel, message: dict) -> int:
        argv = [str(word) for word in message.get("argv", [])]
        if self.session is not None and self._vault_identity() != self._vault_id:
            self.lock("the vault's files were replaced (a restore)")
        if self.session is not None and self._key_expired():
            self.lock("its key expired")
        if self.session is None:
            channel.write("err", f"luna: {agent_link.LOCKED_SENTENCE}\n")
            return EXIT_KEY
        from luna_tui.cli.agent_client import command_words

        named = command_words(argv)
        if not named or named[0] in REFUSED[0] or tuple(named) in REFUSED[1]:
            channel.write("err", "luna: this command does not run through the agent.\n")
            return EXIT_USAGE
        assert self.life is not None
        self.life.touch(self.clock.now())
        tty = [bool(flag) for flag in message.get("tty", [False, False, False])]
        with self._as_client(channel, message, tty):
            try:
                return self.run_here(argv, keep_parser=True)
            except SystemExit as leaving:  # argparse: --help, a usage error
                code = leaving.code
                return code if isinstance(code, int) else (0 if code is None else 1)

    @contextlib.contextmanager
    def _as_client(self, channel: Channel, message: dict, tty: list[bool]) -> Iterator[None]:
        """The process looks like the client's for one command: its streams, its
        environment (LUNA_*, TERM, COLUMNS, TZ…), its folder, its terminal."""
        from luna_tui.cli import secrets_input, vault_commands

        saved_streams = sys.stdin, sys.stdout, sys.stderr
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_input = secrets_input.terminal_available, secrets_input.prompt_secret
        env = {str(k): str(v) for k, v in dict(message.get("env", {})).items()}
        size = message.get("size")
        if size and "COLUMNS" not in env:
            env["COLUMNS"], env["LINES"] = str(size[0]), str(size[1])
        terminal = bool(message.get("terminal"))
        os.environ.clear()
        os.environ.update(env)
        time.tzset()
        try:
            os.chdir(str(message.get("cwd", "/")))
        except OSError:
            os.chdir("/")
        encodings = [str(name) for name in message.get("encoding") or ["utf-8"] * 3]
        sys.stdin = InStream(channel, tty[0], encodings[0])
        sys.stdout = OutStream(channel, "out", tty[1], encodings[1])
        sys.stderr = OutStream(channel, "err", tty[2], encodings[2])
        secrets_input.terminal_available = lambda: terminal
        secrets_input.prompt_secret = lambda prompt: channel.ask({"op": "secret",
                                                                  "prompt": prompt})
        vault_commands.agent_session = self._lend_session
        try:
            yield
        finally:
            vault_commands.agent_session = None
            secrets_input.terminal_available, secrets_input.prompt_secret = saved_input
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            os.environ.clear()
            os.environ.update(saved_env)
            time.tzset()
            os.chdir(saved_cwd)

    def _lend_session(self, args: argparse.Namespace, command: str) -> Any:
        """The agent's session for a command (audited with the key that unlocked it),
        in a wrapper that does not close it."""
        from luna_tui.cli.vault_commands import layout_from

        if os.path.abspath(layout_from(args).home) != os.path.abspath(self.layout.home):
            raise LunaError("This agent holds another vault; run the command without it.")
        from luna_tui.services.settings import PASSPHRASE_ONLY

        name = getattr(args, "name", None)
        if (command == "settings" and name in PASSPHRASE_ONLY
                and getattr(args, "value", None) is not None):
            # Else any process of this user could turn it on through the agent, then
            # take the key: it changes only where the passphrase was typed.
            raise UsageError(f"{name} is changed only with the passphrase, not through "
                             "the agent: `luna lock` first.")
        session = self.session
        session.run(_record_command, session, command)
        return LentSession(session)


def _record_command(session: Any, command: str) -> None:
    with session.transaction() as tx:
        tx.record("agent.command", diff={"command": command})


class LentSession:
    """`with open_session(args) as session:` in a command run by the agent: the agent's
    own session, left open at the end of the block."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def __enter__(self) -> Any:
        return self._session

    def __exit__(self, *exc_info: object) -> None:
        return None

    def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


# -- the process -----------------------------------------------------------------------


def run_agent(layout: VaultLayout, run_here: Callable[..., int], *,
              exit_when_locked: bool, report: Callable[[str], None],
              jobs: list[Callable[[AgentVault], Job]] | None = None) -> int:
    """`luna agent --wait` (and the process `luna unlock` starts): bind, then serve until
    SIGTERM or, when started by `luna unlock`, the lock. `jobs`: background work started
    at each unlock (the reminders' scheduler joins here)."""
    harden_process()
    agent = Agent(layout, run_here, exit_when_locked=exit_when_locked, report=report,
                  jobs=jobs)
    note = agent.bind()
    if note:
        report(note)

    def stop(signum: int, frame: object) -> None:
        agent.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    report(f"waiting for `luna unlock` on {agent.socket_path}")
    agent.serve()
    return 0
