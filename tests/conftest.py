"""Fixtures shared by every test.

Every test gets its own LUNA_HOME in a temp folder (autouse), so no test can touch a
real vault, and none inherits a passphrase from the developer's environment. Vaults
are made with cheap Argon2 parameters passed explicitly; the production floor is
asserted by tests/test_kdf.py.

Time: the `clock` fixture is a FakeClock at an ordinary day (2026-11-22 09:30 UTC), and
every SystemClock made during a test reads it too (autouse `system_clock`). A test marked
`dates` gets it at each of TODAYS instead — the edges where date code breaks — so it must
say what it expects relative to `clock.today()`, never as a literal date, and must never
assume the machine's own date is near the clock's.

Child processes run Luna on the machine's real clock. To run the whole suite at another
real date or zone: `faketime -f '@2027-12-31 23:59:00' .venv-test/bin/python -m pytest`
(libfaketime; `apt-get install faketime`), `TZ=Pacific/Auckland .venv-test/bin/python
-m pytest`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest

from luna_tui.home import VaultLayout
from luna_tui.vault.kdf import KdfParams

PASSPHRASE = "correct horse battery staple"
OTHER_PASSPHRASE = "mango river quietly sings"


def cheap_kdf() -> KdfParams:
    return KdfParams(memory_kib=8, time_cost=1, parallelism=1, salt=os.urandom(16))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.moment = start or dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.moment

    def wall_time(self) -> float:
        return self.moment.timestamp()

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)

    def today(self) -> dt.date:
        """The local date of the moment: the "today" people see and type."""
        return self.moment.astimezone().date()

    def to_machine_time(self) -> None:
        """Move to the machine's own time (the tests' one read of the wall clock): for
        tests whose child processes run Luna on the real clock."""
        self.moment = dt.datetime.now(dt.UTC)

    def set_local(self, day: dt.date, at: str) -> None:
        """Move to `at` ("21:00") local time on `day`."""
        local = dt.datetime.combine(day, dt.time.fromisoformat(at))
        self.moment = local.astimezone(dt.UTC)


@contextmanager
def local_timezone(name: str) -> Iterator[None]:
    """This process's local time follows `name` (TZ and tzset), then what it was."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


@dataclass(frozen=True)
class Today:
    """A "today" of the date matrix: a local wall time, in `zone` (None: the zone the
    process runs in, so TZ=Pacific/Auckland pytest moves UTC and the audit month away
    from the local date)."""

    name: str
    local: dt.datetime  # naive
    zone: str | None = None

    def moment(self) -> dt.datetime:
        if self.zone is None:
            return self.local.astimezone(dt.UTC)
        return self.local.replace(tzinfo=zoneinfo.ZoneInfo(self.zone)).astimezone(dt.UTC)


TODAYS = [
    Today("month-end", dt.datetime(2027, 4, 30, 23, 59)),
    Today("new-years-eve", dt.datetime(2027, 12, 31, 23, 59)),
    # A minute before Berlin's clocks jump from 02:00 to 03:00: today is 23 hours long.
    Today("spring-forward", dt.datetime(2027, 3, 28, 1, 59), "Europe/Berlin"),
    # The second 02:30 of the night Berlin's clocks go back from 03:00 to 02:00.
    Today("fall-back", dt.datetime(2027, 10, 31, 2, 30, fold=1), "Europe/Berlin"),
    Today("leap-day", dt.datetime(2028, 2, 29, 12, 0)),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `dates` run once at each of TODAYS."""
    if metafunc.definition.get_closest_marker("dates") is None:
        return
    if "clock" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.definition.nodeid} is marked `dates` but never "
                                "uses the clock fixture, so the date matrix can't reach it.")
    metafunc.parametrize("clock", TODAYS, indirect=True, ids=[t.name for t in TODAYS])


@pytest.fixture(autouse=True)
def luna_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "luna-home"
    monkeypatch.setenv("LUNA_HOME", str(home))
    monkeypatch.setenv("LUNA_CONFIG_DIR", str(tmp_path / "luna-config"))
    for name in ("LUNA_PASSPHRASE", "LUNA_NEW_PASSPHRASE", "LUNA_DEBUG", "LUNA_BUSY_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def agent_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A Luna agent's socket folder of the test's own ($XDG_RUNTIME_DIR/luna): short, as
    socket paths must be, so never the user's, and removed after the test."""
    import shutil
    import tempfile

    runtime = Path(tempfile.mkdtemp(prefix="lr-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_session_left_open():
    """A test that forgets to lock must not break the next one."""
    yield
    from luna_tui.services import vault_session

    leftover = vault_session._open_session
    if leftover is not None and not leftover.closed:
        leftover.close()


@pytest.fixture(autouse=True)
def cheap_key_wraps(monkeypatch: pytest.MonkeyPatch) -> None:
    """New wraps made through the services (passwd, keys add) use cheap parameters;
    calibration itself is tested in test_kdf.py."""
    monkeypatch.setattr("luna_tui.services.key_admin.calibrate", lambda *a, **k: cheap_kdf())


@pytest.fixture
def layout(luna_home: Path) -> VaultLayout:
    return VaultLayout(luna_home)


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Iterator[FakeClock]:
    """The ordinary day; each of TODAYS for a test marked `dates`; and the machine's own
    time for a test marked `slow`: those start Luna processes, which run on the real
    clock, and a vault they share must not be months apart from it."""
    today: Today | None = getattr(request, "param", None)
    if today is None:
        fake = FakeClock()
        if request.node.get_closest_marker("slow") is not None:
            fake.to_machine_time()
        yield fake
        return
    with local_timezone(today.zone) if today.zone else nullcontext():
        yield FakeClock(today.moment())


@pytest.fixture(autouse=True)
def system_clock(request: pytest.FixtureRequest, clock: FakeClock,
                 monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Code that makes its own SystemClock — the CLI's commands, a vault opened without a
    clock, a restore — reads the test's clock, so no test depends on the machine's date
    (a vault made at the clock's today and reopened at the machine's would split its
    audit log across months) nor straddles the machine's midnight. Except in a test
    marked `slow`: its child processes run Luna on the real clock, and what the test
    opens itself must agree with them, even when a month ends meanwhile."""
    from luna_tui.clock import SystemClock

    if request.node.get_closest_marker("slow") is not None:
        return clock
    monkeypatch.setattr(SystemClock, "now", lambda self: clock.now())
    monkeypatch.setattr(SystemClock, "wall_time", lambda self: clock.wall_time())
    return clock


@pytest.fixture
def new_vault(layout: VaultLayout, clock: FakeClock):
    from luna_tui.services.vault_setup import create_vault

    created = create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock)
    yield created
    created.session.close()


@pytest.fixture
def session(new_vault):
    return new_vault.session


@pytest.fixture
def vault(session, layout, monkeypatch):
    """A closed vault and the passphrase in the environment, as a script has it (the CLI
    tests' vault)."""
    session.close()
    monkeypatch.setenv("LUNA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr("luna_tui.cli.secrets_input.terminal_available", lambda: False)
    return layout
