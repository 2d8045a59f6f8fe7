"""The Luna agent (issue 16): its folder and socket, who may call it, its lifecycle on
the fake clock, commands run inside it (prompts and piped text over the socket, audited
with its key, refused for a read-only key), and, as processes, the CLI with and
without an agent, a stale socket, a second unlock, `luna agent --wait`, and a restore
or passphrase change ending it. Every agent a test starts is ended by its fixture."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE, cheap_kdf
from luna_tui import agent_link
from luna_tui.errors import EXIT_KEY
from luna_tui.home import VaultLayout


def make_vault(layout: VaultLayout, clock, entries: tuple[str, ...] = ()) -> None:
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_setup import create_vault

    created = create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock)
    with created.session as session:
        me = Settings(session).current_patient_id()
        for text in entries:
            Journal(session).create(me, EntryDraft(content=text))


class InProcessAgent:
    """An agent served from a thread of the test, on the test's clock."""

    def __init__(self, layout: VaultLayout, clock, **options) -> None:
        from luna_tui.cli.agent_server import Agent
        from luna_tui.cli.main import run_here

        self.agent = Agent(layout, run_here, clock=clock, **options)
        self.agent.bind()
        self.thread = threading.Thread(target=self.agent.serve, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.agent.stopping.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def in_process(layout, clock):
    started: list[InProcessAgent] = []

    def start(**options) -> InProcessAgent:
        if not layout.exists():
            make_vault(layout, clock, ("Walked by the river", "Slept badly"))
        started.append(InProcessAgent(layout, clock, **options))
        return started[-1]

    yield start
    for agent in started:
        agent.stop()


def ask(home: Path, op: str, **fields) -> dict | None:
    return agent_link.request(home, op, **fields)


def run(home: Path, *argv: str, lines: tuple[str, ...] = (), tty: bool = False
        ) -> tuple[int, str, str]:
    """A command through the agent, as the thin client sends it; `lines` answer what it
    reads (a line at a time, then the end)."""
    sock = agent_link.connect(home)
    assert sock is not None
    answers = list(lines)
    out, err = [], []
    with sock:
        agent_link.send(sock, {"op": "run", "argv": list(argv), "cwd": os.getcwd(),
                               "env": dict(os.environ), "tty": [tty] * 3, "terminal": tty,
                               "size": None})
        while True:
            message = agent_link.receive(sock)
            assert message is not None
            if message["op"] == "out":
                out.append(message["data"])
            elif message["op"] == "err":
                err.append(message["data"])
            elif message["op"] == "read":
                data = answers.pop(0) if answers else ""
                if not message.get("line"):
                    data, answers[:] = data + "".join(answers), []
                agent_link.send(sock, {"data": data})
            elif message["op"] == "exit":
                return message["code"], "".join(out), "".join(err)


# -- the folder, the socket, the peer ----------------------------------------------------


def test_the_folder_is_0700_and_the_socket_0600(in_process, agent_runtime_dir):
    agent = in_process().agent
    folder = agent_runtime_dir / "luna"
    assert agent.socket_path.parent == folder
    assert str(agent.socket_path) == agent_link.socket_path(str(agent.layout.home) + "/./")
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700
    info = os.lstat(agent.socket_path)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600


def test_a_loose_folder_is_tightened_and_a_symlink_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    assert agent_link.private_folder(loose, create=True)
    assert stat.S_IMODE(os.lstat(loose).st_mode) == 0o700
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    with pytest.raises(agent_link.AgentUnsafe, match="not a folder"):
        agent_link.private_folder(link, create=True)
    assert not agent_link.private_folder(tmp_path / "absent", create=False)


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 4242, 4242)
    with pytest.raises(agent_link.AgentUnsafe, match="another user"):
        agent_link.private_folder(theirs, create=False)


def test_without_a_runtime_dir_the_folder_is_under_tmp(monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert agent_link.runtime_dir() == f"/tmp/luna-{os.getuid()}"


def test_the_peer_of_another_uid_is_refused():
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    with ours, theirs:
        agent_link.check_peer(ours)  # a real peer: this process, this uid
        assert agent_link.peer_uid(ours) == os.getuid()
        with pytest.raises(agent_link.PeerRefused, match="uid 4242"):
            agent_link.check_peer(ours, read_uid=lambda sock: 4242)

        def unknown(sock):
            raise OSError("no credentials")

        with pytest.raises(agent_link.PeerRefused):
            agent_link.check_peer(ours, read_uid=unknown)


def test_the_agent_answers_no_other_uid(in_process, layout):
    agent = in_process(read_uid=lambda sock: os.getuid() + 1).agent
    assert ask(layout.home, "unlock", secret=PASSPHRASE) is None  # closed, unanswered
    assert not agent.unlocked


def test_a_very_long_home_still_has_a_short_socket(tmp_path, monkeypatch, clock):
    home = tmp_path / ("a-long-folder-name-" * 5) / ("and-another-one-" * 5) / "vault"
    monkeypatch.setenv("LUNA_HOME", str(home))
    assert len(os.fsencode(str(home))) > 200
    layout = VaultLayout(home)
    make_vault(layout, clock)
    served = InProcessAgent(layout, clock)
    try:
        assert len(str(served.agent.socket_path)) <= agent_link.MAX_SOCKET_PATH
        assert ask(home, "unlock", secret=PASSPHRASE)["unlocked"]
        assert run(home, "settings", "backup.every_days")[0] == 0
    finally:
        served.stop()


def test_an_ending_agent_leaves_a_newer_agents_socket_alone(in_process, layout):
    served = in_process()
    path = str(served.agent.socket_path)
    os.unlink(path)  # it is ending; a new agent binds the same path meanwhile
    newer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with newer:
        newer.bind(path)
        served.stop()
        assert os.path.exists(path)


def test_a_second_agent_for_the_vault_is_refused(in_process, layout, clock):
    in_process()
    from luna_tui.cli.agent_server import Agent
    from luna_tui.cli.main import run_here

    with pytest.raises(agent_link.AgentRunning):
        Agent(layout, run_here, clock=clock).bind()


# -- the lifecycle on the fake clock ---------------------------------------------------


def test_unlock_status_and_lock(in_process, layout):
    agent = in_process().agent
    assert ask(layout.home, "status")["unlocked"] is False
    wrong = ask(layout.home, "unlock", secret="not the passphrase")
    assert wrong["ok"] is False and wrong["exit"] == EXIT_KEY
    unlocked = ask(layout.home, "unlock", secret=PASSPHRASE, idle=0, **{"for": 3600})
    assert unlocked["ok"] and unlocked["role"] == "owner"
    status = ask(layout.home, "status")
    assert status["unlocked"] and status["vault"] == str(layout.home)
    assert status["pid"] == os.getpid()
    again = ask(layout.home, "unlock", secret=PASSPHRASE)
    assert again["ok"] is False and "already holds" in again["error"]
    assert ask(layout.home, "end", reason="test")["held"] is True
    assert ask(layout.home, "status")["unlocked"] is False and not agent.unlocked


def test_the_time_limit_locks_it(in_process, layout, clock):
    agent = in_process().agent
    ask(layout.home, "unlock", secret=PASSPHRASE, idle=0, **{"for": 2 * 3600})
    clock.advance(hours=1, minutes=59)
    run(layout.home, "settings")
    agent.check_life()
    assert agent.unlocked
    clock.advance(minutes=1)
    agent.check_life()
    assert not agent.unlocked


def test_idle_locks_it_and_each_command_keeps_it_awake(in_process, layout, clock):
    agent = in_process().agent
    answer = ask(layout.home, "unlock", secret=PASSPHRASE, idle=30 * 60, **{"for": 8 * 3600})
    assert answer["until"] == (clock.now() + dt.timedelta(minutes=30)).isoformat()
    for _ in range(3):
        clock.advance(minutes=20)
        assert run(layout.home, "settings")[0] == 0
        agent.check_life()
        assert agent.unlocked
    clock.advance(minutes=30)
    agent.check_life()
    assert not agent.unlocked
    code, _, err = run(layout.home, "list")
    assert code == EXIT_KEY and agent_link.LOCKED_SENTENCE in err


def test_a_locked_agent_answers_every_command_locked(in_process, layout):
    in_process()
    for argv in (("list",), ("add", "text"), ("settings",)):
        code, out, err = run(layout.home, *argv)
        assert (code, out, err) == (EXIT_KEY, "", f"luna: {agent_link.LOCKED_SENTENCE}\n")


def test_an_agent_started_by_unlock_ends_with_its_lock(in_process, layout):
    agent = in_process(exit_when_locked=True).agent
    ask(layout.home, "unlock", secret=PASSPHRASE)
    ask(layout.home, "end", reason="luna lock")
    assert agent.stopping.is_set() and not agent.socket_path.exists()


def test_a_replaced_vault_locks_it(in_process, layout):
    agent = in_process().agent
    ask(layout.home, "unlock", secret=PASSPHRASE)
    copy = layout.home / "luna.db.copy"
    copy.write_bytes(layout.main_db.read_bytes())
    os.replace(copy, layout.main_db)  # what a restore's swap does: another inode
    code, _, err = run(layout.home, "list")
    assert code == EXIT_KEY and agent_link.LOCKED_SENTENCE in err and not agent.unlocked


def test_an_expired_key_locks_it(in_process, layout, clock):
    from luna_tui.clock import local_today
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.services.vault_session import VaultSession

    make_vault(layout, clock)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        KeyAdmin(session).add_key("visitor", read_only=False, passphrase=OTHER_PASSPHRASE,
                                  expiry=local_today(clock))
    agent = in_process().agent
    ask(layout.home, "unlock", secret=OTHER_PASSPHRASE, idle=0, **{"for": 3 * 24 * 3600})
    assert run(layout.home, "settings")[0] == 0
    clock.advance(days=1)
    code, _, err = run(layout.home, "settings")
    assert code == EXIT_KEY and agent_link.LOCKED_SENTENCE in err and not agent.unlocked


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_agent_process_dumps_no_core_and_is_not_dumpable():
    probe = ("import ctypes, resource; from luna_tui.cli.agent_server import harden_process; "
             "harden_process(); print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), "
             "resource.getrlimit(resource.RLIMIT_CORE))")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert ran.stdout.split("\n")[0] == "0 (0, 0)"


def test_background_jobs_start_at_unlock_and_stop_at_lock(in_process, layout):
    from luna_tui.services.settings import Settings

    seen = []

    class Job:
        def __init__(self, vault) -> None:
            seen.append(("started", vault.run(lambda s: Settings(s).current_patient_id())))

        def stop(self) -> None:
            seen.append(("stopped", None))

    in_process(jobs=[Job])
    ask(layout.home, "unlock", secret=PASSPHRASE)
    [(started, patient_id)] = seen
    assert started == "started" and isinstance(patient_id, str) and patient_id
    ask(layout.home, "end", reason="test")
    assert seen[-1] == ("stopped", None)


def test_a_lock_says_it_dropped_the_key_while_a_slow_job_stops(in_process, layout):
    """`luna lock` on an agent that ends at its lock starts its shutdown at once; a job
    slow to stop must not let the shutdown take the key first, so that `luna lock`
    said "already locked" (seen under load in CI)."""

    class SlowJob:
        def __init__(self, vault) -> None:
            pass

        def stop(self) -> None:
            time.sleep(1.5)  # longer than the accept loop's tick: the shutdown runs

    in_process(jobs=[SlowJob], exit_when_locked=True)
    ask(layout.home, "unlock", secret=PASSPHRASE)
    answer = ask(layout.home, "end", reason="luna lock")
    assert answer is not None and answer["held"] is True


def test_the_agent_reminds_while_it_holds_the_key(in_process, layout, clock, monkeypatch):
    """The reminders' scheduler is one of the agent's jobs: a due dose reaches the terminal
    it was started from (no desktop here), and the app stays silent until the lock."""
    import io

    from luna_tui.cli.agent_reminders import AgentReminders
    from luna_tui.services.medications import Medications
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.store.scheduler_lock import SchedulerLock

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    make_vault(layout, clock)
    clock.set_local(clock.today(), "06:00")
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        Medications(session).create(
            Settings(session).current_patient_id(), "Metformin", "500 mg", "twice daily",
            start_date=(clock.today() - dt.timedelta(days=1)).isoformat())
    clock.set_local(clock.today(), "08:05")  # the 08:00 dose is due, unlogged
    terminal = io.StringIO()
    in_process(jobs=[lambda vault: AgentReminders(vault, terminal, every=0.05)])
    ask(layout.home, "unlock", secret=PASSPHRASE)
    app = SchedulerLock(layout.home, "app")
    waited = 0
    while "Luna: 1 dose due" not in terminal.getvalue():
        assert waited < 400, "the agent sent no reminder"
        time.sleep(0.05)
        waited += 1
    assert "Metformin" not in terminal.getvalue()  # no health detail by default
    assert not app.may_remind()  # the agent is the one scheduler
    ask(layout.home, "end", reason="test")
    assert app.may_remind()  # locked: the app takes over
    app.release()


# -- commands inside the agent ---------------------------------------------------------


def test_commands_give_their_output_and_are_audited_with_its_key(in_process, layout, clock):
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.store.models.audit import AuditEvent

    in_process()
    ask(layout.home, "unlock", secret=PASSPHRASE)
    code, out, err = run(layout.home, "list", "--json")
    assert code == 0 and err == ""
    assert [e["content"] for e in json.loads(out)] == ["Slept badly", "Walked by the river"]
    assert run(layout.home, "search", "river", "--json")[0] == 0
    ask(layout.home, "end", reason="test")
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        rows = session.run(lambda: [(r.event_name, r.key_locator_hash, r.diff) for r in
                                    AuditEvent.select().order_by(AuditEvent.seq)])
    served = [(key, json.loads(diff)) for name, key, diff in rows if name == "agent.command"]
    unlock_key = [key for name, key, _ in rows if name == "unlock"][-2]  # the agent's
    assert served == [(unlock_key, {"command": "list"}), (unlock_key, {"command": "search"})]


def test_piped_text_and_typed_lines_travel_over_the_socket(in_process, layout):
    in_process()
    ask(layout.home, "unlock", secret=PASSPHRASE)
    assert run(layout.home, "add", lines=("Piped in\n",))[0] == 0
    # On a terminal, `luna add` reads lines typed at the prompt until Ctrl-D.
    code, out, _ = run(layout.home, "add", "--mood", "calm", tty=True,
                       lines=("Typed line one\n", "and two\n"))
    assert code == 0 and "Saved" in out
    code, out, _ = run(layout.home, "list", "--json", "-n", "2")
    assert [e["content"] for e in json.loads(out)] == ["Typed line one\nand two", "Piped in"]


def test_a_read_only_key_makes_a_read_only_agent(in_process, layout, clock):
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.services.vault_session import VaultSession

    make_vault(layout, clock, ("Walked by the river",))
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    in_process()
    assert ask(layout.home, "unlock", secret=OTHER_PASSPHRASE)["role"] == "read-only"
    code, _, err = run(layout.home, "add", "A caregiver's note")
    assert code == EXIT_KEY and "read-only" in err
    assert run(layout.home, "list")[0] == 0


def test_commands_that_run_by_themselves_are_refused_inside(in_process, layout):
    in_process()
    ask(layout.home, "unlock", secret=PASSPHRASE)
    for argv in (("passwd",), ("backup", "restore", "x"), ("init",), ("unlock",),
                 ("keys", "rotate")):
        assert run(layout.home, *argv)[0] == 2


def test_a_key_rotation_asks_for_the_agent_to_be_locked_first(in_process, layout):
    from luna_tui.errors import VaultBusy
    from luna_tui.services.key_rotation import plan_rotation

    in_process()
    ask(layout.home, "unlock", secret=PASSPHRASE)
    with pytest.raises(VaultBusy, match="run `luna lock` first"):
        plan_rotation(layout, PASSPHRASE)


def test_the_agent_never_turns_on_its_own_hand_off(in_process, layout):
    in_process()
    ask(layout.home, "unlock", secret=PASSPHRASE)
    for setting in ("agent.unlocks_app", "agent.follows_app"):
        code, _, err = run(layout.home, "settings", setting, "on")
        assert code == 2 and "only with the passphrase" in err
        assert run(layout.home, "settings", setting) == (0, "false\n", "")
    assert ask(layout.home, "app_unlock") == {
        "ok": False, "error": "the setting agent.unlocks_app is off"}


def test_which_commands_the_thin_client_sends():
    from luna_tui.cli.agent_client import command_words, through_agent

    assert command_words(["--home", "/v", "keys", "list", "-n", "3"]) == ["keys", "list"]
    assert through_agent(["list", "-n", "3"]) and through_agent(["search", "word"])
    for local in ([], ["init"], ["passwd"], ["unlock"], ["lock"], ["agent", "status"],
                  ["backup", "restore", "f"], ["keys", "rotate"], ["doctor", "--repair"],
                  ["list", "--help"],
                  ["--version"], ["bench"], ["--home=/v", "list"],
                  ["settings", "agent.unlocks_app", "on"],
                  ["settings", "agent.follows_app", "on"]):
        assert not through_agent(local), local


@pytest.mark.parametrize("follows", [False, True])
def test_a_waiting_agent_follows_the_apps_unlock_only_when_allowed(in_process, layout, clock,
                                                                    follows):
    """`luna agent --wait` at login, then the person unlocks the app: the agent unlocks
    too only with `agent.follows_app` on (it derives the key itself from the passphrase
    the app passes; with the setting off the passphrase goes nowhere)."""
    from luna_tui.services.agent_handoff import agent_may_follow, unlock_waiting_agent
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_session import VaultSession

    make_vault(layout, clock)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        Settings(session).set("agent.follows_app", follows)
        assert agent_may_follow(session) is False  # no agent's socket yet
    in_process()  # waiting: no key
    assert ask(layout.home, "status")["unlocked"] is False
    # The app's unlock (its own process in life; one vault per process in a test).
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        may = agent_may_follow(session)
    assert may is follows
    if may:
        assert unlock_waiting_agent(layout.home, PASSPHRASE) is True
        assert unlock_waiting_agent(layout.home, PASSPHRASE) is False  # unlocked already
    assert ask(layout.home, "status")["unlocked"] is follows


# -- as processes ------------------------------------------------------------------------


def luna(*argv: str, stdin: str | None = None, env: dict | None = None
         ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "luna_tui", *argv], env=env or dict(os.environ),
                          input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def processes(layout, clock, monkeypatch):
    """A vault for `luna` processes; every agent started for it is ended afterwards."""
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    # An agent that fails writes its crash report (no vault data) to the config folder,
    # printed below: an agent that once failed to start in CI said only "FileNotFoundError".
    monkeypatch.setenv("LUNA_DEBUG", "1")
    make_vault(layout, clock, ("Walked by the river", "Slept badly", "River again"))
    waiting: list[subprocess.Popen] = []
    yield waiting
    for log in Path(agent_link.runtime_dir()).glob("*.log"):
        print(f"{log.name}:\n{log.read_text()}")  # shown if the test failed
    for report in Path(os.environ["LUNA_CONFIG_DIR"]).glob("crash-*.txt"):
        print(f"{report.name}:\n{report.read_text()}")
    status = agent_link.request(layout.home, "status")
    if status:
        os.kill(status["pid"], signal.SIGTERM)
    for process in waiting:
        process.terminate()
        process.wait(10)
    deadline = time.monotonic() + 10
    while os.path.exists(agent_link.socket_path(layout.home)) and time.monotonic() < deadline:
        time.sleep(0.05)


def _pid(layout) -> int:
    return agent_link.request(layout.home, "status")["pid"]


@pytest.mark.slow
def test_the_cli_is_the_same_with_and_without_an_agent(processes, layout):
    commands = [("list",), ("list", "--json", "-n", "2"), ("search", "river"),
                ("settings",), ("settings", "no.such"), ("list", "-n", "0"),
                ("meds", "--json"), ("records", "--json"), ("appts",),
                ("search", "--json", "nothing-matches-this")]
    alone = [luna(*argv) for argv in commands]
    started = luna("unlock", "--for", "10m")
    assert started.returncode == 0 and "Unlocked with the owner key" in started.stdout
    served = [luna(*argv) for argv in commands]
    for argv, before, after in zip(commands, alone, served, strict=True):
        assert (after.returncode, after.stdout, after.stderr) == (
            before.returncode, before.stdout, before.stderr), argv
    assert luna("add", stdin="Through the agent\n").returncode == 0
    assert "Through the agent" in luna("list", "-n", "1").stdout
    assert luna("lock").stdout.startswith("Locked")
    assert "No Luna agent runs" in luna("agent", "status").stdout


@pytest.mark.slow
def test_the_thin_client_imports_nothing_heavy(processes, layout):
    assert luna("unlock").returncode == 0
    probe = ("import sys; from luna_tui.cli.main import main; code = main(['list']); "
             "heavy = [m for m in ('peewee', 'sqlcipher3', 'cryptography', 'argon2', 'rich', "
             "'textual', 'luna_tui.services', 'luna_tui.store') if m in sys.modules]; "
             "print(code, heavy, file=sys.stderr)")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert ran.stderr.strip().splitlines()[-1] == "0 []"
    assert "River again" in ran.stdout


@pytest.mark.slow
def test_a_stale_socket_is_removed_and_said(processes, layout):
    assert luna("unlock").returncode == 0
    os.kill(_pid(layout), signal.SIGKILL)
    time.sleep(0.2)
    assert os.path.exists(agent_link.socket_path(layout.home))
    listed = luna("list")
    assert listed.returncode == 0 and "River again" in listed.stdout
    assert "removed the socket of a Luna agent that is gone" in listed.stderr
    assert not os.path.exists(agent_link.socket_path(layout.home))


@pytest.mark.slow
def test_a_second_unlock_says_one_runs(processes, layout):
    assert luna("unlock").returncode == 0
    second = luna("unlock")
    assert second.returncode == 1 and "already holds this vault unlocked" in second.stderr
    status = json.loads(luna("agent", "status", "--json").stdout)
    assert status["unlocked"] and status["role"] == "owner" and status["label"]
    # The passphrase reached it over the socket, and is not kept in its environment.
    environ = Path(f"/proc/{status['pid']}/environ")
    if environ.exists():
        assert b"LUNA_PASSPHRASE" not in environ.read_bytes()


@pytest.mark.slow
def test_a_waiting_agent_is_locked_until_unlock(processes, layout):
    waiting = subprocess.Popen([sys.executable, "-m", "luna_tui", "agent", "--wait"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    processes.append(waiting)
    deadline = time.monotonic() + 30
    while agent_link.request(layout.home, "status") is None:
        assert time.monotonic() < deadline and waiting.poll() is None, waiting.stderr.read()
        time.sleep(0.05)
    locked = luna("list")
    assert (locked.returncode, locked.stderr) == (EXIT_KEY, "luna: locked: run luna unlock\n")
    assert luna("unlock").returncode == 0
    assert "River again" in luna("list").stdout
    assert luna("lock").returncode == 0
    status = json.loads(luna("agent", "status", "--json").stdout)
    assert status["running"] and not status["unlocked"]  # it waits again
    waiting.send_signal(signal.SIGTERM)
    assert waiting.wait(15) == 0
    assert not os.path.exists(agent_link.socket_path(layout.home))


@pytest.mark.slow
def test_a_restore_and_a_passphrase_change_end_the_agent(processes, layout, tmp_path,
                                                         monkeypatch):
    assert luna("backup", "create", "--to", str(tmp_path / "b")).returncode == 0
    [backup] = (tmp_path / "b").glob("*.lunabak")
    assert luna("unlock").returncode == 0
    restored = luna("backup", "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "agent of this vault is locked" in restored.stdout
    assert agent_link.request(layout.home, "status") is None
    assert luna("unlock").returncode == 0
    env = {**os.environ, "LUNA_NEW_PASSPHRASE": "a brand new passphrase of four words"}
    changed = luna("passwd", env=env)
    assert changed.returncode == 0, changed.stderr
    assert "agent of this vault is locked" in changed.stdout
    assert agent_link.request(layout.home, "status") is None


# -- the app ---------------------------------------------------------------------------


class FakeAgent:
    """Listens where this vault's agent would and notes what it is asked."""

    def __init__(self, home: Path) -> None:
        path = agent_link.socket_path(home)
        agent_link.private_folder(os.path.dirname(path), create=True)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(4)
        self.asked: list[dict] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                message = agent_link.receive(conn)
                self.asked.append(message)
                agent_link.send(conn, {"ok": message["op"] == "end", "held": True})

    def close(self) -> None:
        self.listener.close()


async def test_an_explicit_lock_in_the_app_locks_the_agent_and_idle_does_not(layout, clock):
    from app_helpers import SIZE, make_app, settle, unlock

    make_vault(layout, clock)
    fake = FakeAgent(layout.home)
    try:
        app = make_app(layout, clock)
        async with app.run_test(size=SIZE) as pilot:
            await unlock(pilot)
            clock.advance(hours=1)
            await app.lock_if_idle()  # the app's own idle lock: the agent keeps its key
            await settle(pilot)
            assert app.session is None
            assert fake.asked == [{"op": "app_unlock"}]  # at the start only (refused)
            await unlock(pilot)
            await pilot.press("ctrl+l")
            await settle(pilot)
            for _ in range(50):
                if len(fake.asked) > 1:
                    break
                await pilot.pause(0.02)
            assert fake.asked[1:] == [{"op": "end", "reason": "locked from the app"}]
    finally:
        fake.close()


async def _app_opened_by_agent(layout, clock, *, expected: bool) -> bool:
    """Start the app; whether the vault opened without anything typed. Waits up to 30 s
    for it when it is `expected`; else until the unlock screen's worker that asks the
    agent has ended (and a little more for its message)."""
    from app_helpers import SIZE, make_app, settle

    app = make_app(layout, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(600):
            if expected and app.screen.__class__.__name__ == "DashboardScreen":
                break
            if not expected and not any(w.group == "unlock" and not w.is_finished
                                        for w in app.workers):
                for _ in range(10):
                    await pilot.pause(0.05)
                await settle(pilot)
                break
            await pilot.pause(0.05)
        opened = app.session is not None
        if opened:
            assert app.screen.__class__.__name__ == "DashboardScreen"
    return opened


def _set_unlocks_app(layout, clock, on: bool) -> None:
    from luna_tui.services.settings import Settings
    from luna_tui.services.vault_session import VaultSession

    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        Settings(session).set("agent.unlocks_app", on)


@pytest.mark.slow
async def test_the_app_opens_by_the_agent_only_with_the_setting_on(processes, layout, clock):
    from luna_tui.services.vault_session import VaultSession
    from luna_tui.store.models.audit import AuditEvent

    assert luna("unlock").returncode == 0
    assert not await _app_opened_by_agent(layout, clock, expected=False)  # off by default
    luna("lock")
    _set_unlocks_app(layout, clock, True)
    assert luna("unlock").returncode == 0
    assert await _app_opened_by_agent(layout, clock, expected=True)
    luna("lock")
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        handed = session.run(lambda: AuditEvent.select().where(
            AuditEvent.event_name == "agent.app_unlock").count())
    assert handed == 1


@pytest.mark.slow
async def test_a_read_only_agent_never_opens_the_app(processes, layout, clock):
    from luna_tui.services.key_admin import KeyAdmin
    from luna_tui.services.vault_session import VaultSession

    _set_unlocks_app(layout, clock, True)
    with VaultSession.open(layout, PASSPHRASE, clock=clock) as session:
        KeyAdmin(session).add_key("caregiver", read_only=True, passphrase=OTHER_PASSPHRASE)
    env = {**os.environ, "LUNA_PASSPHRASE": OTHER_PASSPHRASE}
    assert luna("unlock", env=env).returncode == 0
    assert not await _app_opened_by_agent(layout, clock, expected=False)


def test_an_import_never_turns_on_the_hand_off(session):
    from luna_tui.services.importing import Importer
    from luna_tui.services.settings import Settings

    stamp = "2026-11-22T09:30:00.000Z"
    document = {"format": "luna-export", "version": 1, "tables": {"config": [
        {"key": key, "value": "true", "created_at": stamp, "updated_at": stamp}
        for key in ("agent.unlocks_app", "ai.allow_remote")]}}
    Importer(session).import_document(document)
    settings = Settings(session)
    assert settings.get("ai.allow_remote") is True  # an ordinary setting comes in
    assert settings.get("agent.unlocks_app") is False
