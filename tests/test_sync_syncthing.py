"""Sync through two real Syncthing instances on loopback: the transport the README
recommends carries the folder between two vaults, as it would between two machines.

Each instance gets its own home, GUI/API port and listen port; both are configured
through Syncthing's REST API only (options: no discovery, relays or NAT; each other as
device; the folder with the file-system watcher on). Every wait is bounded. Skipped,
with the reason, where Syncthing is not installed (`.ci/run` installs Debian's
`syncthing`)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sync_devices import entries, first_device, join, sync, write_entry

from luna_tui.services.sync.folder import TEMP_PREFIX

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("syncthing") is None,
                       reason="Syncthing is not installed (apt-get install syncthing)"),
]

FOLDER_ID = "luna-sync"
WAIT_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Instance:
    home: Path
    gui_port: int
    listen_port: int
    api_key: str
    process: subprocess.Popen | None = None
    device_id: str = ""

    def api(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.gui_port}{path}", data=data, method=method,
            headers={"X-API-Key": self.api_key, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            text = response.read()
        return json.loads(text) if text.strip() else None

    def start(self) -> None:
        env = {**os.environ, "STNODEFAULTFOLDER": "1", "STNOUPGRADE": "1"}
        subprocess.run(["syncthing", "generate", f"--home={self.home}", "--no-default-folder",
                        "--skip-port-probing"], env=env, check=True, capture_output=True,
                       timeout=60)
        self.process = subprocess.Popen(
            ["syncthing", "serve", f"--home={self.home}", "--no-browser", "--no-restart",
             "--no-upgrade", f"--gui-address=127.0.0.1:{self.gui_port}",
             f"--gui-apikey={self.api_key}", f"--logfile={self.home / 'log.txt'}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._answers(), "Syncthing's API to answer")
        self.device_id = self.api("GET", "/rest/system/status")["myID"]  # type: ignore[index]
        self.api("PATCH", "/rest/config/options", {
            "listenAddresses": [f"tcp://127.0.0.1:{self.listen_port}"],
            "globalAnnounceEnabled": False, "localAnnounceEnabled": False,
            "relaysEnabled": False, "natEnabled": False, "urAccepted": -1,
            "crashReportingEnabled": False, "autoUpgradeIntervalH": 0})

    def _answers(self) -> bool:
        try:
            self.api("GET", "/rest/system/ping")
        except OSError:
            return False
        return True

    def share(self, folder: Path, other: Instance) -> None:
        self.api("POST", "/rest/config/devices", {
            "deviceID": other.device_id, "name": "other",
            "addresses": [f"tcp://127.0.0.1:{other.listen_port}"]})
        self.api("POST", "/rest/config/folders", {
            "id": FOLDER_ID, "label": "Luna", "path": str(folder), "type": "sendreceive",
            "devices": [{"deviceID": self.device_id}, {"deviceID": other.device_id}],
            "fsWatcherEnabled": True, "fsWatcherDelayS": 1, "rescanIntervalS": 3600})

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"waited {WAIT_SECONDS:.0f} s for {what}")


@pytest.fixture
def two_syncthings(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Two folders kept in sync by two Syncthing instances talking over loopback."""
    folders = tmp_path / "laptop-sync", tmp_path / "desktop-sync"
    instances = [Instance(tmp_path / f"syncthing-{n}", free_port(), free_port(),
                          secrets.token_hex(16)) for n in range(2)]
    try:
        for folder in folders:
            folder.mkdir()
            # What the README asks: the temp names Luna writes are never carried.
            (folder / ".stignore").write_text(f"{TEMP_PREFIX}*\n")
        for instance in instances:
            instance.start()
        instances[0].share(folders[0], instances[1])
        instances[1].share(folders[1], instances[0])
        yield folders
    finally:
        for instance in instances:
            instance.stop()


def _has(folder: Path, pattern: str) -> bool:
    return any(folder.glob(pattern))


def test_two_vaults_sync_through_two_syncthing_instances(two_syncthings, tmp_path, clock):
    laptop_folder, desktop_folder = two_syncthings
    laptop, desktop = tmp_path / "laptop", tmp_path / "desktop"
    first_device(laptop, laptop_folder, clock)
    written = write_entry(laptop, clock, "written on the laptop")
    sync(laptop, clock)
    wait_for(lambda: _has(desktop_folder, "*/snapshot-*.lunabak")
             and _has(desktop_folder, "*/0000000001.change"),
             "the laptop's snapshot and change file to reach the desktop's folder")
    join(desktop, desktop_folder, clock)
    assert entries(desktop, clock)[written] == ("written on the laptop", False)

    reply = write_entry(desktop, clock, "and the desktop answers")
    sync(desktop, clock)
    wait_for(lambda: len([p for p in laptop_folder.iterdir()
                          if p.is_dir() and not p.name.startswith(".")]) == 2
             and _has(laptop_folder, "*/0000000001.change")
             and len(list(laptop_folder.glob("*/0000000001.change"))) == 2,
             "the desktop's change file to reach the laptop's folder")
    sync(laptop, clock)
    assert entries(laptop, clock)[reply] == ("and the desktop answers", False)
    assert not _has(laptop_folder, "**/*sync-conflict*")  # one writer per file
