"""A full disk is said as such, everywhere, and leaves nothing half-written.

Each command runs as a real process with tests/native/enospc.c preloaded: writes under
the vault folder (or an output folder) fail with ENOSPC once a byte budget is spent, in
SQLite and in Python alike. Whatever the budget, the command either finishes (exit 0)
or stops with the disk-full sentence (exit 6) — never "damaged", never a traceback —
and the vault passes `luna doctor` afterwards. One more test fills a real tmpfs (needs
root to mount it; skipped elsewhere, saying why).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OTHER_PASSPHRASE, PASSPHRASE
from luna_tui.errors import EXIT_DISK_FULL
from luna_tui.services.doctor import run_checks
from luna_tui.services.vault_session import VaultSession

NATIVE = Path(__file__).parent / "native" / "enospc.c"
NEVER = ("damaged", "went wrong", "Traceback", "restore it from a backup", "corrupt")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="LD_PRELOAD and /proc/self/fd are Linux's")


@pytest.fixture(scope="session")
def enospc_library(tmp_path_factory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the full-disk shim (apt-get install gcc)")
    built = tmp_path_factory.mktemp("native") / "libenospc.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", str(built), str(NATIVE), "-ldl"],
                   check=True, capture_output=True)
    return built


@pytest.fixture
def vault(session, layout, tmp_path):
    """A vault with an entry, a record with a file, and a backup; closed."""
    from luna_tui.services.backups.folder import Backups
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.records import Records
    from luna_tui.services.settings import Settings

    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="before the disk filled"))
    record = Records(session).create(me, title="Blood test", record_type="lab")
    source = tmp_path / "letter.txt"
    source.write_text("ferritin 12\n" * 500)
    from luna_tui.services.attachments import Attachments

    attached = Attachments(session).add(record.id, source)
    backup = Backups(session).create().path
    session.close()
    made = iter(range(1000))

    def new_file() -> str:  # the same file can't be attached twice to one record
        path = tmp_path / f"scan-{next(made)}.txt"
        path.write_text(f"{path.name}\n" * 2000)
        return str(path)

    return {"record": record.id, "attachment": attached.id, "backup": backup,
            "file": source, "export": tmp_path / "export.json", "new_file": new_file,
            "new_label": lambda: f"caregiver {next(made)}"}


def operations(v: dict) -> dict[str, tuple[list[str], str | None]]:
    """Every kind of write a person can ask for, as `luna` arguments and stdin."""
    return {
        "list": (["list"], None),
        "search": (["search", "disk"], None),
        "add": (["add"], "written on a full disk"),
        "records add": (["records", "add", "--title", "Scan", "--attach", v["new_file"]()],
                        None),
        "attach": (["attach", v["record"], v["new_file"]()], None),
        "meds add": (["meds", "add", "Metformin", "--dosage", "500 mg", "--frequency",
                      "twice daily"], None),
        "appts add": (["appts", "add", "--date", "2027-01-10", "--provider", "Dr Rivera"],
                      None),
        "vitals add": (["vitals", "add", "weight", "72.5"], None),
        "settings": (["settings", "auto_lock_minutes", "9"], None),
        "passwd": (["passwd"], None),
        "keys add": (["keys", "add", "--label", v["new_label"](), "--read-only", "--generate"],
                     None),
        "backup create": (["backup", "create"], None),
        "export": (["export", "--format", "json", "--out", str(v["export"])], None),
        "doctor": (["doctor"], None),
    }


OPERATIONS = list(operations({"record": "", "export": "", "new_file": str, "new_label": str}))


def run_on_a_full_disk(library: Path, under: Path, budget: int, args: list[str],
                       stdin: str | None, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE, "LUNA_NEW_PASSPHRASE": OTHER_PASSPHRASE,
           "LD_PRELOAD": str(library), "LUNA_TEST_ENOSPC_UNDER": str(under),
           "LUNA_TEST_ENOSPC_AFTER": str(budget), **extra}
    return subprocess.run([sys.executable, "-m", "luna_tui", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=60)


def bytes_written(library: Path, under: Path, args: list[str], stdin: str | None) -> int:
    """What the operation writes under `under` when there is room: its budgets are cut
    from this, so the disk fills at points all through it, its own writes included."""
    result = run_on_a_full_disk(library, under, 1 << 40, args, stdin,
                                LUNA_TEST_ENOSPC_REPORT="1")
    return int(result.stderr.rsplit("enospc: spent ", 1)[1].split()[0])


def _change_passphrase(layout, old: str, new: str) -> None:
    from conftest import cheap_kdf
    from luna_tui.vault.key_manager import KeyManager

    with VaultSession.open(layout, old) as session:
        KeyManager(layout).change_secret(session.key, session.key.label, new, cheap_kdf())


def assert_said_as_full(result: subprocess.CompletedProcess, what: str) -> None:
    assert result.returncode in (0, EXIT_DISK_FULL), f"{what}: {result.returncode} {result.stderr}"
    if result.returncode == EXIT_DISK_FULL:
        assert "full" in result.stderr and "nothing was saved" in result.stderr, result.stderr
    for word in NEVER:
        assert word not in result.stderr, f"{what}: {result.stderr}"


def assert_whole(layout, passphrase: str) -> None:
    with VaultSession.open(layout, passphrase) as session:
        failed = [f for f in run_checks(session) if not f.ok]
    assert failed == [], failed


@pytest.mark.slow
@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_on_a_full_disk_says_so_and_leaves_the_vault_whole(
        enospc_library, vault, layout, name):
    needed = bytes_written(enospc_library, layout.home, *operations(vault)[name])
    if name == "passwd":  # it worked: put the passphrase back
        _change_passphrase(layout, OTHER_PASSPHRASE, PASSPHRASE)
    for budget in (0, needed // 3, 2 * needed // 3, needed - 1):
        args, stdin = operations(vault)[name]
        result = run_on_a_full_disk(enospc_library, layout.home, budget, args, stdin)
        assert_said_as_full(result, f"{name} with {budget} bytes")
        if budget == 0:  # even opening the vault writes (keys.db, the audit log)
            assert result.returncode == EXIT_DISK_FULL, result.stderr
        if name == "passwd" and result.returncode == 0:
            assert_whole(layout, OTHER_PASSPHRASE)
            return
        assert_whole(layout, PASSPHRASE)


@pytest.mark.slow
def test_an_entry_is_saved_whole_or_not_at_all(enospc_library, vault, layout):
    from luna_tui.services.journal import Journal
    from luna_tui.services.settings import Settings

    saved = []
    for budget in range(0, 240_000, 16_000):
        text = f"entry with {budget} bytes of room"
        result = run_on_a_full_disk(enospc_library, layout.home, budget, ["add"], text)
        assert_said_as_full(result, f"add with {budget} bytes")
        if result.returncode == 0:
            saved.append(text)
    with VaultSession.open(layout, PASSPHRASE) as session:
        me = Settings(session).current_patient_id()
        kept = [e.content for e in Journal(session).page(me, limit=100).entries]
        assert all(f.ok for f in run_checks(session))
    assert set(saved) <= set(kept)
    assert {t for t in kept if "bytes of room" in t} == set(saved)  # nothing half-saved
    assert saved, "some budget must be enough to save an entry"


@pytest.mark.slow
def test_a_verify_or_restore_with_no_room_for_its_scratch_says_so(enospc_library, vault,
                                                                   layout, tmp_path):
    for args in (["backup", "verify", str(vault["backup"])],
                 ["backup", "restore", str(vault["backup"]), "--to", str(tmp_path / "new"),
                  "--yes"]):
        under = vault["backup"].parent if args[1] == "verify" else tmp_path
        result = run_on_a_full_disk(enospc_library, under, 0, args, None)
        assert result.returncode == EXIT_DISK_FULL, result.stderr
        assert_said_as_full(result, " ".join(args[:2]))
    assert not [p for p in vault["backup"].parent.iterdir() if p.name.startswith(".luna-")]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["list", "add", "attach", "backup create", "doctor"])
def test_a_used_up_quota_is_said_as_full_though_the_disk_has_room(enospc_library, vault,
                                                                   layout, name):
    """A quota fails a write with EDQUOT while statvfs shows the disk's free space; SQLite
    reports it as a "disk I/O error", which must not read as damage."""
    needed = bytes_written(enospc_library, layout.home, *operations(vault)[name])
    for budget in (0, needed // 2):
        args, stdin = operations(vault)[name]
        result = run_on_a_full_disk(enospc_library, layout.home, budget, args, stdin,
                                    LUNA_TEST_ENOSPC_QUOTA="1")
        assert_said_as_full(result, f"{name} with a quota of {budget} bytes")
        if budget == 0:
            assert result.returncode == EXIT_DISK_FULL, result.stderr
        assert_whole(layout, PASSPHRASE)


@pytest.mark.slow
def test_a_full_backup_folder_on_another_disk_is_said_as_full(enospc_library, vault, layout,
                                                              tmp_path):
    """The vault's disk has room; the backup's does not: the sentence names the backup's
    folder, and never calls the vault damaged."""
    elsewhere = tmp_path / "usb-stick"
    elsewhere.mkdir()
    for budget in (0, 40_000, 200_000):
        result = run_on_a_full_disk(enospc_library, elsewhere, budget,
                                    ["backup", "create", "--to", str(elsewhere)], None)
        assert_said_as_full(result, f"a backup with {budget} bytes of room")
        assert result.returncode == EXIT_DISK_FULL, result.stderr
        assert str(elsewhere) in " ".join(result.stderr.split()), result.stderr
    assert not [p for p in elsewhere.iterdir() if p.name.startswith(".")]
    assert_whole(layout, PASSPHRASE)


# -- a real full disk ---------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this machine won't mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler = disk / "filler"
    with filler.open("wb") as out:
        remaining = max(0, free - leave)
        while remaining > 0:
            chunk = min(remaining, 1 << 20)
            try:
                out.write(b"\0" * chunk)
                out.flush()
            except OSError:
                break
            remaining -= chunk
    return filler


@pytest.mark.slow
def test_a_real_full_disk_is_said_as_such_and_loses_nothing(small_disk, tmp_path):
    from luna_tui.home import VaultLayout

    env = {**os.environ, "LUNA_HOME": str(small_disk / "vault"), "LUNA_PASSPHRASE": PASSPHRASE}

    def luna(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "luna_tui", *args], input=stdin, text=True,
                              capture_output=True, env=env, timeout=60)

    assert luna("init", "--kdf-seconds", "0").returncode == 0
    assert luna("add", stdin="before the disk filled").returncode == 0
    big = tmp_path / "scan.bin"
    big.write_bytes(os.urandom(3_000_000))
    for leave in (0, 64 * 1024, 1024 * 1024):
        filler = fill(small_disk, leave)
        for args, stdin in ((["list"], None), (["add"], "on a full disk"),
                            (["records", "add", "--title", "Scan", "--attach", str(big)], None)):
            result = luna(*args, stdin=stdin)
            assert_said_as_full(result, f"{args[0]} with {leave} bytes left")
        filler.unlink()
    assert_whole(VaultLayout(small_disk / "vault"), PASSPHRASE)
    listed = luna("list", "--json")
    assert "before the disk filled" in listed.stdout


# -- the app ------------------------------------------------------------------------------------

async def test_the_app_says_the_disk_is_full_and_keeps_what_was_typed(layout, session):
    from textual.widgets import TextArea

    from app_helpers import SIZE, make_app, notifications, settle, unlock

    session.close()
    app = make_app(layout)
    text = "A long night, written down before it fades. " * 400  # more than a page
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        editor.query_one("#content", TextArea).text = text

        def disk_fills():
            from luna_tui.store.models.base import database

            pages = database.execute_sql("PRAGMA main.page_count").fetchone()[0]
            database.execute_sql(f"PRAGMA main.max_page_count = {pages}")

        app.session.run(disk_fills)
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = " ".join(notifications(pilot))
        assert app.screen is editor  # still open, nothing thrown away
        assert editor.query_one("#content", TextArea).text == text
        assert "full" in said and "nothing was saved" in said
        assert not any(word in said for word in NEVER)


def test_a_vault_made_but_not_opened_still_shows_its_recovery_key(capsys, layout, monkeypatch):
    """The disk fills between making the vault and opening it: the recovery key exists
    only in this process, so it is printed before the sentence."""
    import re

    from conftest import cheap_kdf
    from helpers import run_cli
    from luna_tui.home import disk_full
    from luna_tui.services import vault_setup

    made = vault_setup.VaultSession.connect

    def connect(where, unlocked, **options):
        if not options.get("create"):  # the opening after the vault is in place
            raise disk_full(where.home)
        return made(where, unlocked, **options)

    monkeypatch.setattr(vault_setup.VaultSession, "connect", staticmethod(connect))
    monkeypatch.setattr("luna_tui.services.vault_setup.calibrate", lambda seconds: cheap_kdf())
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    result = run_cli(capsys, "init")
    assert result.code == EXIT_DISK_FULL
    assert "Your vault is made" in result.err and "full" in result.err
    groups = re.findall(r"^    ((?:[0-9A-Z]{4}  ){3}[0-9A-Z]{4})$", result.out, re.MULTILINE)
    assert len(groups) == 2
    monkeypatch.undo()
    with VaultSession.open(layout, "".join(groups).replace(" ", "")) as session:
        assert session.key.kind == "recovery"


@pytest.mark.slow
def test_init_on_a_full_disk_leaves_a_whole_vault_or_nothing(enospc_library, tmp_path):
    from luna_tui.home import VaultLayout

    def init(folder: Path, budget: int, **extra: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "LUNA_HOME": str(folder / "vault"), "LUNA_PASSPHRASE": PASSPHRASE,
               "LD_PRELOAD": str(enospc_library), "LUNA_TEST_ENOSPC_UNDER": str(folder),
               "LUNA_TEST_ENOSPC_AFTER": str(budget), **extra}
        return subprocess.run([sys.executable, "-m", "luna_tui", "init", "--kdf-seconds", "0"],
                              text=True, capture_output=True, env=env, timeout=60)

    measured = init(tmp_path / "measure", 1 << 40, LUNA_TEST_ENOSPC_REPORT="1")
    needed = int(measured.stderr.rsplit("enospc: spent ", 1)[1].split()[0])
    for budget in (0, needed // 4, needed // 2, 3 * needed // 4, needed - 1):
        folder = tmp_path / f"budget-{budget}"
        folder.mkdir()
        result = init(folder, budget)
        assert_said_as_full(result, f"init with {budget} bytes")
        layout = VaultLayout(folder / "vault")
        if layout.exists():  # made whole: it opens, and its recovery key was shown
            assert result.returncode == 0 or "RECOVERY KEY" in result.stdout
            assert_whole(layout, PASSPHRASE)
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no staging


async def test_the_app_shows_the_recovery_key_of_a_vault_it_made_but_could_not_open(
        layout, monkeypatch):
    from app_helpers import SIZE, make_app, settle, type_text
    from luna_tui.home import disk_full
    from luna_tui.services import vault_setup
    from luna_tui.ui.screens.unlock import UnlockScreen

    made = vault_setup.VaultSession.connect

    def connect(where, unlocked, **options):
        if not options.get("create"):
            raise disk_full(where.home)
        return made(where, unlocked, **options)

    monkeypatch.setattr(vault_setup.VaultSession, "connect", staticmethod(connect))
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, PASSPHRASE)
        await pilot.press("tab", "space", "ctrl+s")
        await settle(pilot)
        recovery = app.screen.new.recovery_key  # the key is shown, once
        await pilot.press("space", "tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert app.session is None
    monkeypatch.undo()
    with VaultSession.open(layout, recovery) as session:
        assert session.key.kind == "recovery"


def test_a_full_disk_inside_a_nested_write_is_said_as_full(session):
    """SQLite rolls the whole transaction back on a full disk mid-statement; the nested
    block's ROLLBACK TO then has no savepoint, which must not hide the full disk."""
    from luna_tui.errors import DiskFull
    from luna_tui.store.models.base import database

    def fill_inside_a_nested_write():
        pages = database.execute_sql("PRAGMA main.page_count").fetchone()[0]
        database.execute_sql(f"PRAGMA main.max_page_count = {pages + 2}")
        try:
            with session.writing("test") as tx, session.writing("nested"):
                tx.record("bulk")
                database.execute_sql("CREATE TABLE main.filler (x)")
                for _ in range(200):
                    database.execute_sql("INSERT INTO main.filler VALUES (randomblob(4000))")
        finally:
            database.execute_sql("PRAGMA main.max_page_count = 1073741823")

    with pytest.raises(DiskFull):
        session.run(fill_inside_a_nested_write)
    assert session.run(lambda: database.table_exists("filler")) is False
