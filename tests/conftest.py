"""Fixtures shared by every test.

Every test gets its own LUNA_HOME in a temp folder (autouse), so no test can touch a
real vault, and none inherits a passphrase from the developer's environment. Vaults
are made with cheap Argon2 parameters passed explicitly; the production floor is
asserted by tests/test_kdf.py.
"""

from __future__ import annotations

import datetime as dt
import os
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

    def set_local(self, day: dt.date, at: str) -> None:
        """Move to `at` ("21:00") local time on `day`."""
        local = dt.datetime.combine(day, dt.time.fromisoformat(at))
        self.moment = local.astimezone(dt.UTC)


@pytest.fixture(autouse=True)
def luna_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "luna-home"
    monkeypatch.setenv("LUNA_HOME", str(home))
    monkeypatch.setenv("LUNA_CONFIG_DIR", str(tmp_path / "luna-config"))
    for name in ("LUNA_PASSPHRASE", "LUNA_NEW_PASSPHRASE", "LUNA_DEBUG", "LUNA_BUSY_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return home


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
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def new_vault(layout: VaultLayout, clock: FakeClock):
    from luna_tui.services.vault_setup import create_vault

    created = create_vault(layout, PASSPHRASE, kdf=cheap_kdf(), clock=clock)
    yield created
    created.session.close()


@pytest.fixture
def session(new_vault):
    return new_vault.session
