"""The Luna people install is the Luna these tests run.

Once per test session, the wheel is built from this source tree (`pip wheel`, as
`pip install .` builds it) and installed, not editable, with its dependencies into a
fresh venv. Everything below then runs from that venv, never from the checkout:

- every module found under luna_tui/ and migrations/ in the SOURCE tree imports, from
  the venv's site-packages: a module the wheel left out fails here;
- `luna … --help` for every command of the installed parser's tree;
- every command, run as a real `luna` process against a fresh vault: SCENARIO is keyed
  by command path and must match the walked tree, so a new command fails this test until
  it has a step (and only SCENARIO needs editing);
- the app, started headless, unlocks to the dashboard and opens every place.

Everything runs once on one worker (the xdist group); the pip cache makes the install
a matter of seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pypdf
import pytest
from ai_server import FakeModel
from import_samples import APPLE_XML
from pdf_maker import text_pdf

from helpers import keys_db_rows
from luna_tui.errors import EXIT_KEY, EXIT_USAGE
from luna_tui.home import VaultLayout

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("installed_wheel")]

REPO = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("installed_probe.py")
# What a clean clone would not have, or what must not leak into the build: a stale
# build/ folder would put modules the packaging no longer finds into the wheel.
NOT_SOURCE = {".git", ".venv", ".venv-test", "build", "dist", ".pytest_cache", ".ruff_cache"}

PASSPHRASE = "quiet orchard lanterns drift at dawn"
NEW_PASSPHRASE = "copper tide meadows hum softly"
CAREGIVER_PASSPHRASE = "silver kite harbour under rain"
ROTATED_PASSPHRASE = "amber foxes cross the frozen bay"


# -- the installed wheel ----------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    venv: Path
    workdir: Path  # a folder outside the checkout, where processes start

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def luna(self) -> Path:
        return self.venv / "bin" / "luna"

    def probe(self, *args: str, env: dict[str, str] | None = None) -> dict:
        """Run tests/installed_probe.py with the venv's python, isolated (-I: neither the
        checkout nor the script's folder is on sys.path)."""
        result = subprocess.run([str(self.python), "-I", str(PROBE), *args], cwd=self.workdir,
                                env=env or clean_env(), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a person's shell: nothing of the test's Python or Luna settings,
    and wide enough that tables do not wrap."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("LUNA_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "COLUMNS": "200", **extra}


def _source_copy(target: Path) -> Path:
    def skipped(folder: str, names: list[str]) -> set[str]:
        at_top = Path(folder) == REPO
        return {name for name in names if name == "__pycache__" or name.endswith(".egg-info")
                or (at_top and name in NOT_SOURCE)}

    shutil.copytree(REPO, target, ignore=skipped)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed-wheel")
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(root / "dist"),
                    str(_source_copy(root / "source"))], check=True, timeout=300)
    [wheel] = (root / "dist").glob("luna_tui-*.whl")
    venv = root / "venv"
    # The venv needs no pip of its own: the tests' pip installs into it (--python).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "-q",
                    str(wheel)], check=True, timeout=600)
    workdir = root / "work"
    workdir.mkdir()
    return Installed(venv, workdir)


# -- modules and data files -------------------------------------------------------------


def source_modules() -> list[str]:
    """Every module of the source tree, by the name it has once installed
    (migrations/main/0001_x.py is luna_tui.migrations.main.0001_x)."""
    names = []
    for folder, package in ((REPO / "luna_tui", "luna_tui"),
                            (REPO / "migrations", "luna_tui.migrations")):
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join((package, *parts)))
    return names


def test_every_source_module_imports_from_the_installed_wheel(installed: Installed) -> None:
    names = source_modules()
    assert "luna_tui.ai.provider" in names and "luna_tui.migrations.main" in names
    found = installed.probe("imports", *names)
    assert found["failures"] == {}
    site_packages = Path(found["site_packages"])
    assert site_packages.is_relative_to(installed.venv)
    elsewhere = {name: file for name, file in found["files"].items()
                 if not Path(file).is_relative_to(site_packages)}
    assert elsewhere == {}, "imported from outside the venv, not from the wheel"


def test_every_data_file_of_the_package_is_installed(installed: Installed) -> None:
    """Stylesheets and anything else luna_tui/ holds besides Python."""
    [site_packages] = (installed.venv / "lib").glob("python3*/site-packages")
    data = [path.relative_to(REPO) for path in (REPO / "luna_tui").rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc")]
    assert data, "luna_tui/ has its stylesheet at least"
    assert [path for path in data if not (site_packages / path).is_file()] == []


# -- commands -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def command_tree(installed: Installed) -> list[dict]:
    """The installed parser's tree, walked in the venv, with what `--help` did for each."""
    return installed.probe("commands")["commands"]


def runnable_commands(tree: list[dict]) -> set[str]:
    """Command paths that do something on their own: every leaf, and groups like
    `luna meds` that list when given no action."""
    return {" ".join(node["path"]) for node in tree if node["runs"]}


def test_every_command_shows_its_own_help(command_tree: list[dict]) -> None:
    assert len(command_tree) > 30
    wrong = [node for node in command_tree
             if node["help_code"] != 0 or not node["help_is_its_own"] or node["help_stderr"]]
    assert wrong == []


def test_the_scenario_runs_exactly_the_installed_commands(command_tree: list[dict]) -> None:
    commands = runnable_commands(command_tree)
    assert sorted(commands - set(SCENARIO)) == [], "commands without a step in SCENARIO"
    assert sorted(set(SCENARIO) - commands) == [], "steps for commands that do not exist"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self):  # noqa: ANN201 - whatever the command printed
        return json.loads(self.out)


@dataclass
class Scenario:
    """One person's vault, driven through the installed `luna`; remembers each command
    path that ran, and what steps hand to later ones."""

    installed: Installed
    tmp: Path
    paths: set[str]  # every command path of the tree, groups like `backup` too
    model: FakeModel
    passphrase: str = PASSPHRASE
    ran: set[str] = field(default_factory=set)
    found: dict[str, str] = field(default_factory=dict)  # ids and keys for later steps

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    @property
    def layout(self) -> VaultLayout:
        return VaultLayout(self.home)

    def luna(self, *argv: str, code: int = 0, home: Path | None = None,
             passphrase: str | None = None, new_passphrase: str | None = None,
             input: str | None = None) -> Ran:  # noqa: A002 - subprocess.run's name
        env = clean_env(LUNA_HOME=str(home or self.home),
                        LUNA_CONFIG_DIR=str(self.tmp / "config"),
                        LUNA_PASSPHRASE=passphrase or self.passphrase,
                        XDG_CONFIG_HOME=str(self.tmp / "xdg-config"))
        if new_passphrase:
            env["LUNA_NEW_PASSPHRASE"] = new_passphrase
        # Piped in when given (as health text should be: arguments show in `ps`).
        piped = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        result = subprocess.run([str(self.installed.luna), *argv], cwd=self.installed.workdir,
                                env=env, capture_output=True, text=True, timeout=180,
                                **piped)
        self.ran.add(self._command_of(argv))
        assert result.returncode == code, (
            f"luna {' '.join(argv)} exited {result.returncode}, not {code}:\n{result.stderr}")
        return Ran(result.returncode, result.stdout, result.stderr)

    def _command_of(self, argv: tuple[str, ...]) -> str:
        words = []
        for word in argv:
            if " ".join((*words, word)) not in self.paths:
                break
            words.append(word)
        return " ".join(words)

    def export_tables(self) -> dict[str, list[dict]]:
        return self.luna("export", "--format", "json").json()["tables"]

    def record(self) -> dict:
        return self.luna("records", "show", self.found["record"], "--json").json()


def _shown_key(out: str) -> str:
    """A recovery key as `luna` prints it: indented groups on their own lines."""
    return " ".join(line.strip() for line in out.splitlines() if line.startswith("    "))


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


# Each step runs its command and checks what it did: files, --json output, exit codes.
# Steps run in this order, each after the ones above it.

def init(s: Scenario) -> None:
    s.found["recovery"] = _shown_key(s.luna("init", "--kdf-seconds", "0").out)
    assert s.layout.exists() and s.layout.main_db.is_file() and s.layout.stats_db.is_file()
    assert len(s.found["recovery"].split()) >= 4


def settings(s: Scenario) -> None:
    assert "auto_lock_minutes" in s.luna("settings").out
    s.luna("settings", "auto_lock_minutes", "12")
    assert s.luna("settings", "auto_lock_minutes").out.strip() == "12"


def add(s: Scenario) -> None:
    s.luna("add", "--mood", "calm", "--tag", "river", "--sleep", "7.5", "Walked", "by", "the",
           "river")


def list_(s: Scenario) -> None:
    [entry] = s.luna("list", "--json").json()
    assert (entry["content"], entry["mood"], entry["tags"], entry["sleep_hours"]) == (
        "Walked by the river", "calm", ["river"], 7.5)
    s.found["entry"] = entry["id"]


def search(s: Scenario) -> None:
    assert [hit["id"] for hit in s.luna("search", "river", "--json").json()] == [
        s.found["entry"]]
    assert s.luna("search", "mountain", "--json").json() == []


def plan(s: Scenario) -> None:
    shown = s.luna("plan").out.splitlines()
    assert shown[0] == "Me's safety plan"
    assert "1. Warning signs" in shown and "7. Reasons for living" in shown
    assert "There is no crisis card" in s.luna("plan", "--card", code=1).err


def patients(s: Scenario) -> None:
    [me] = s.luna("patients", "--json").json()
    assert (me["name"], me["owner"], me["current"], me["entries"]) == ("Me", True, True, 1)
    assert (me["patient_id"], me["patient"]) == (me["id"], "Me")


def patients_add(s: Scenario) -> None:
    s.luna("patients", "add", "Sam", "--relationship", "son")
    assert [p["name"] for p in s.luna("patients", "--json").json()] == ["Me", "Sam"]


def patients_rename(s: Scenario) -> None:
    s.luna("patients", "rename", "Sam", "Samuel")
    assert [p["name"] for p in s.luna("patients", "--json").json()] == ["Me", "Samuel"]


def patients_archive(s: Scenario) -> None:
    s.luna("patients", "archive", "Samuel")
    assert [p["name"] for p in s.luna("patients", "--json").json()] == ["Me"]
    assert "can't be archived" in s.luna("patients", "archive", "Me", code=1).err


def patients_unarchive(s: Scenario) -> None:
    s.luna("patients", "unarchive", "Samuel")
    assert [p["archived"] for p in s.luna("patients", "--all", "--json").json()] == [
        False, False]


def meds_add(s: Scenario) -> None:
    s.luna("meds", "add", "Metformin", "--dosage", "500 mg", "--frequency", "twice daily",
           "--start", "yesterday")


def meds(s: Scenario) -> None:
    [medication] = s.luna("meds", "--json").json()
    assert (medication["name"], medication["dosage"], medication["schedule"],
            medication["active"]) == ("Metformin", "500 mg", ["08:00", "20:00"], True)


def dose(s: Scenario) -> None:
    s.luna("dose", "Metformin", "taken", "--at", "yesterday 08:10")  # past at any hour
    [logged] = s.export_tables()["medication_doses"]
    assert logged["status"] == "taken" and logged["scheduled_at"].endswith("T08:00")
    [medication] = s.luna("meds", "--json").json()
    assert medication["adherence"]["7"]["taken"] == 1


def doses(s: Scenario) -> None:
    [logged] = s.luna("doses", "--json").json()
    assert (logged["medication"], logged["status"], logged["patient"]) == (
        "Metformin", "taken", "Me")
    assert s.luna("doses", "--from", "today", "--json").json() == []


def remind(s: Scenario) -> None:
    listed = s.luna("remind", "--list").out
    assert "dose of Metformin 500 mg" in listed  # its 08:00 or 20:00, within a day
    assert s.luna("remind", "--off", "Metformin").out.strip() == (
        "Reminders for Metformin are off.")
    [medication] = s.luna("meds", "--json").json()
    assert medication["reminders"] is False
    s.luna("remind", "--on", "Metformin")
    installed = s.luna("remind", "--install").out
    unit = s.tmp / "xdg-config" / "systemd" / "user" / "luna-agent.service"
    assert "agent --wait" in unit.read_text() and "systemctl --user" in installed


def meds_stop(s: Scenario) -> None:
    s.luna("meds", "stop", "Metformin", "--reason", "finished the course")
    assert s.luna("meds", "--json").json() == []
    [stopped] = s.luna("meds", "--all", "--json").json()
    assert not stopped["active"] and stopped["end_date"]


def appts_add(s: Scenario) -> None:
    s.luna("appts", "add", "--date", "tomorrow", "--time", "09:30", "--provider", "Dr Rivera")


def appts(s: Scenario) -> None:
    [appointment] = s.luna("appts", "--json").json()
    assert (appointment["provider_name"], appointment["appointment_time"]) == (
        "Dr Rivera", "09:30")


def appts_export(s: Scenario) -> None:
    calendar = s.tmp / "appointments.ics"
    s.luna("appts", "export", "--out", str(calendar))
    text = calendar.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and text.count("BEGIN:VEVENT") == 1
    assert _private(calendar)


def vitals_add(s: Scenario) -> None:
    s.luna("vitals", "add", "weight", "72.5")
    s.luna("vitals", "add", "bp", "120/80")


def vitals(s: Scenario) -> None:
    readings = s.luna("vitals", "--json").json()
    assert sorted((r["kind"], r["value"], r["value2"]) for r in readings) == [
        ("blood_pressure", 120, 80), ("weight", 72.5, None)]


def insights(s: Scenario) -> None:
    rows = s.luna("insights", "--json").json()
    assert {(row["medication"], row["event"]) for row in rows} == {
        ("Metformin", "started"), ("Metformin", "stopped")}
    assert {"sleep", "weight", "blood_pressure_systolic"} <= {row["measure"] for row in rows}
    assert {row["verdict"] for row in rows} == {"not enough data"}  # a day or two of data


def records_add(s: Scenario) -> None:
    report = s.tmp / "ferritin.txt"
    report.write_text("Ferritin 12 ug/L: iron stores low.\n")
    s.luna("records", "add", "--title", "Blood test", "--type", "lab", "--date", "2026-11-20",
           "--tags", "iron", "--attach", str(report))


def records(s: Scenario) -> None:
    [record] = s.luna("records", "--json").json()
    assert (record["title"], record["record_type"], record["tags"], len(record["attachments"])
            ) == ("Blood test", "lab", ["iron"], 1)
    s.found["record"] = record["id"][:8]  # a prefix, as people type it
    found = s.luna("records", "--search", "ferritin", "--json").json()  # the file's text
    assert [r["id"] for r in found] == [record["id"]]


def records_show(s: Scenario) -> None:
    [attachment] = s.record()["attachments"]
    assert (attachment["file_name"], attachment["has_text"]) == ("ferritin.txt", True)


def attach(s: Scenario) -> None:
    scan = s.tmp / "scan.pdf"
    scan.write_bytes(text_pdf("Haemoglobin 13.1 g/dL"))
    s.luna("attach", s.found["record"], str(scan))
    attached = {a["file_name"]: a for a in s.record()["attachments"]}
    assert set(attached) == {"ferritin.txt", "scan.pdf"} and attached["scan.pdf"]["has_text"]
    s.found["scan"] = attached["scan.pdf"]["id"][:8]


def attachment_get(s: Scenario) -> None:
    folder = s.tmp / "copies"
    folder.mkdir()
    s.luna("attachment", "get", s.found["scan"], "--out", str(folder))
    copy = folder / "scan.pdf"
    assert copy.read_bytes() == (s.tmp / "scan.pdf").read_bytes() and _private(copy)


def attachment_delete(s: Scenario) -> None:
    files_before = sum(1 for p in s.layout.attachments_dir.rglob("*") if p.is_file())
    s.luna("attachment", "delete", s.found["scan"], "--yes")
    assert [a["file_name"] for a in s.record()["attachments"]] == ["ferritin.txt"]
    assert sum(1 for p in s.layout.attachments_dir.rglob("*") if p.is_file()) == (
        files_before - 1)


def export(s: Scenario) -> None:
    everything, journal = s.tmp / "export.json", s.tmp / "journal.md"
    s.luna("export", "--format", "json", "--out", str(everything))
    s.luna("export", "--format", "md", "--out", str(journal))
    tables = json.loads(everything.read_text())["tables"]
    assert [e["content"] for e in tables["journal_entries"]] == ["Walked by the river"]
    assert [a["file_name"] for a in tables["attachments"]] == ["ferritin.txt"]
    assert "Walked by the river" in journal.read_text()
    assert _private(everything) and _private(journal)
    fhir = s.tmp / "health.fhir.json"
    assert "NOT encrypted" in s.luna("export", "--format", "fhir", "--out", str(fhir)).err
    bundle = json.loads(fhir.read_text())
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "MedicationStatement", "MedicationAdministration",
            "DocumentReference"} <= kinds
    assert _private(fhir)


def handoff(s: Scenario) -> None:
    """The packet for a doctor, its font and writers from the installed wheel."""
    out = s.tmp / "handoff"
    ran = s.luna("handoff", "--from", "30 days ago", "--to", "today", "--out", str(out),
                 "--yes")
    written = sorted(out.iterdir())
    assert [p.suffix for p in written] == [".ics", ".json", ".pdf"]
    assert all(_private(p) for p in written) and "NOT encrypted" in ran.err
    text = "".join(page.extract_text() for page in pypdf.PdfReader(written[2]).pages)
    assert "Dr Rivera" in text and "not a medical device" in text
    # The insights page, weighed by the wheel's numpy: Metformin's start and stop.
    words = " ".join(text.split())
    assert "Medication changes and how mood, sleep and vitals moved" in words
    assert "Weight around Metformin stopped on " in words
    assert "Weighing the medication changes for the insights page (2 changes)" in ran.err


def import_(s: Scenario) -> None:
    """The export goes into a second, new vault."""
    other = s.tmp / "other-home"
    s.luna("init", "--kdf-seconds", "0", home=other)
    s.luna("import", str(s.tmp / "export.json"), home=other)
    assert [e["content"] for e in s.luna("list", "--json", home=other).json()] == [
        "Walked by the river"]
    [record] = s.luna("records", "--json", home=other).json()
    assert [a["file_name"] for a in record["attachments"]] == ["ferritin.txt"]
    # The FHIR Bundle into a third: its medication, dose and record's file come in, and
    # a second import adds nothing.
    third = s.tmp / "fhir-home"
    s.luna("init", "--kdf-seconds", "0", home=third)
    assert "from a FHIR Bundle" in s.luna("import", str(s.tmp / "health.fhir.json"),
                                          home=third).out
    tables = s.luna("export", "--format", "json", home=third).json()["tables"]
    assert [m["name"] for m in tables["medications"]] == ["Metformin"]
    assert [d["status"] for d in tables["medication_doses"]] == ["taken"]
    assert [a["file_name"] for a in tables["attachments"]] == ["ferritin.txt"]
    again = s.luna("import", "--format", "fhir", str(s.tmp / "health.fhir.json"), home=third)
    assert "Imported 0 rows" in again.out
    # Other apps' files: an Apple Health export.xml (defusedxml, streamed) and a CSV.
    s.luna("import", str(APPLE_XML), home=other)
    csv = s.tmp / "pulse.csv"
    csv.write_text("Day;Pulse\n2024-03-01 07:30;61\n")
    s.luna("import", str(csv), "--map", "date=Day,heart_rate=Pulse", home=other)
    readings = s.luna("vitals", "--json", home=other).json()
    kinds = sorted({r["kind"] for r in readings})
    assert kinds == ["blood_pressure", "glucose", "heart_rate", "sleep", "spo2", "temperature",
                     "weight"]
    assert ("heart_rate", 61) in {(r["kind"], r["value"]) for r in readings}


def records_delete(s: Scenario) -> None:
    s.luna("records", "delete", s.found["record"], "--yes")
    assert s.luna("records", "--json").json() == []
    assert [p for p in s.layout.attachments_dir.rglob("*") if p.is_file()] == []


def ai_config(s: Scenario) -> None:
    s.luna("ai", "config", "--base-url", s.model.base_url, "--model", "wheel-model")
    assert s.luna("settings", "ai.base_url").json() == s.model.base_url
    assert s.luna("settings", "ai.model").json() == "wheel-model"


def ai(s: Scenario) -> None:
    """`luna ai` alone is a usage error that names `luna ai config`."""
    assert "luna ai config" in s.luna("ai", code=EXIT_USAGE).err


def ask(s: Scenario) -> None:
    answer = s.luna("ask", "--no-stream", "How", "did", "I", "sleep?")
    assert answer.out == "Hello, you slept well.\n"
    assert s.model.last["model"] == "wheel-model"
    assert s.model.last["messages"][-1]["content"] == "How did I sleep?"


def stats(s: Scenario) -> None:
    periods = s.luna("stats", "--json").json()
    # Today's and this month's (or, just after midnight, last month's): any date works.
    counted = [(p["requests"], p["prompt_tokens"], p["completion_tokens"]) for p in periods
               if p["requests"]]
    assert counted and set(counted) == {(1, 321, 7)}


def _backups(s: Scenario) -> list[Path]:
    return sorted((s.tmp / "backups").glob("*.lunabak"))


def backup_create(s: Scenario) -> None:
    s.luna("backup", "create", "--to", str(s.tmp / "backups"))
    [backup] = _backups(s)
    assert _private(backup)
    s.found["backup"] = str(backup)


def backup_verify(s: Scenario) -> None:
    s.luna("backup", "verify", s.found["backup"])


def backup_list(s: Scenario) -> None:
    [listed] = s.luna("backup", "list", "--dir", str(s.tmp / "backups"), "--json").json()
    assert listed["file"] == s.found["backup"] and listed["this_vault"]
    assert listed["verified"]["ok"]


def backup_restore(s: Scenario) -> None:
    restored = s.tmp / "restored"
    s.luna("backup", "restore", s.found["backup"], "--to", str(restored))
    assert [e["content"] for e in s.luna("list", "--json", home=restored).json()] == [
        "Walked by the river"]


def backup_prune(s: Scenario) -> None:
    s.luna("backup", "create", "--to", str(s.tmp / "backups"))
    assert len(_backups(s)) == 2
    prune = ("backup", "prune", "--keep", "1", "--dir", str(s.tmp / "backups"))
    assert s.found["backup"] in s.luna(*prune, code=EXIT_USAGE).out  # no terminal, no --yes
    assert len(_backups(s)) == 2
    s.luna(*prune, "--yes")
    assert len(_backups(s)) == 1


def doctor(s: Scenario) -> None:
    s.luna("doctor")  # exit 0 only when every check holds (4 otherwise)


def keys(s: Scenario) -> None:
    assert s.luna("keys").out.startswith("usage: luna keys")


def _roles(s: Scenario) -> list[str]:
    """The role of each key in keys.db (plaintext by design; the labels are encrypted)."""
    return sorted(json.loads(row["acl"])["role"] for row in keys_db_rows(s.layout.keys_db))


def keys_add(s: Scenario) -> None:
    s.luna("keys", "add", "--label", "caregiver", "--read-only",
           new_passphrase=CAREGIVER_PASSPHRASE)
    assert _roles(s) == ["owner", "owner", "read-only"]
    s.luna("list", "--json", passphrase=CAREGIVER_PASSPHRASE)
    s.luna("add", "A caregiver's note", passphrase=CAREGIVER_PASSPHRASE, code=EXIT_KEY)


def keys_list(s: Scenario) -> None:
    assert "caregiver" in s.luna("keys", "list").out


def keys_revoke(s: Scenario) -> None:
    s.luna("keys", "revoke", "caregiver")
    assert _roles(s) == ["owner", "owner"]
    s.luna("list", passphrase=CAREGIVER_PASSPHRASE, code=EXIT_KEY)


def keys_recovery(s: Scenario) -> None:
    new_key = _shown_key(s.luna("keys", "recovery").out)
    assert new_key and new_key != s.found["recovery"]
    s.luna("list", passphrase=new_key)
    s.luna("list", passphrase=s.found["recovery"], code=EXIT_KEY)


def passwd(s: Scenario) -> None:
    s.luna("passwd", new_passphrase=NEW_PASSPHRASE)
    s.luna("list", code=EXIT_KEY)
    s.passphrase = NEW_PASSPHRASE
    s.luna("list")


def keys_rotate(s: Scenario) -> None:
    before = s.luna("list", "--json").json()
    rotated = s.luna("keys", "rotate", "--yes", "--new-passphrase-file", "-",
                     input=ROTATED_PASSPHRASE + "\n")
    assert "still open with the old passphrase" in rotated.out
    s.luna("list", code=EXIT_KEY)  # the passphrase before the rotation
    s.passphrase = ROTATED_PASSPHRASE
    assert s.luna("list", "--json").json() == before
    s.luna("list", passphrase=_shown_key(rotated.out))  # the new recovery key
    assert _roles(s) == ["owner", "owner"]
    s.luna("doctor")  # the audit chain carried over, every file under the new keys


def star(s: Scenario) -> None:
    entry = s.found["entry"][:8]
    s.luna("star", entry)
    assert [e["id"] for e in s.luna("list", "--starred", "--json").json()] == [s.found["entry"]]
    s.luna("star", entry, "--off")
    assert s.luna("list", "--starred", "--json").json() == []


def edit(s: Scenario) -> None:
    s.luna("edit", s.found["entry"][:8], input="Walked by the river, then home @evening\n")
    [entry] = s.luna("list", "--json").json()
    assert entry["content"] == "Walked by the river, then home @evening"
    assert entry["tags"] == ["river", "evening"]


def delete(s: Scenario) -> None:
    """A jrnl-style capture (a leading date phrase, an @tag) found by the list's filters,
    then deleted: refused without --yes when nobody can be asked."""
    added = s.luna("add", input="yesterday: Pharmacy run @errands\n")
    assert 'Read "yesterday" as' in added.err and "#errands" in added.err
    [entry] = s.luna("list", "--tag", "errands", "--from", "yesterday", "--to", "yesterday",
                     "--json").json()
    assert (entry["content"], entry["entry_time"]) == ("Pharmacy run @errands", "")
    assert len(s.luna("-n", "1").out.splitlines()) == 1  # `luna -n 1` is `luna list -n 1`
    s.luna("delete", entry["id"][:8], code=EXIT_USAGE)
    s.luna("delete", entry["id"][:8], "--yes")
    assert s.luna("list", "--tag", "errands", "--json").json() == []


def templates_add(s: Scenario) -> None:
    s.luna("templates", "add", "Evening check-in", "--title", "Evening {date}", "--tag",
           "winddown", "--no-ask-sleep", input="## What went well\n")
    assert "already a template" in s.luna("templates", "add", "evening CHECK-IN",
                                          code=1, input="").err


def templates(s: Scenario) -> None:
    [template] = s.luna("templates", "--json").json()
    assert (template["name"], template["title"], template["body"], template["asks_sleep"]) == (
        "Evening check-in", "Evening {date}", "## What went well", False)


def templates_list(s: Scenario) -> None:
    assert "Evening check-in" in s.luna("templates", "list").out


def templates_edit(s: Scenario) -> None:
    """Renamed, then written from with piped text: its title, tags and type go with it."""
    s.luna("templates", "edit", "evening", "--name", "Evening", "--type", "prompted",
           "--prompt", "What helped today?")
    s.luna("add", "--template", "Evening", "--date", "2020-02-29", input="Tea with Sam\n")
    [entry] = s.luna("list", "--tag", "winddown", "--json").json()
    assert (entry["title"], entry["journal_type"], entry["prompt"]) == (
        "Evening 2020-02-29", "prompted", "What helped today?")
    s.found["templated"] = entry["id"]
    # Whatever today is, a leap day of 2020 is not it in an earlier year unless today
    # is 29 Feb or (a year without one) 28 Feb.
    remembered = [e["id"] for e in s.luna("list", "--today-in-history", "--json").json()]
    assert remembered in ([], [entry["id"]])


def streak(s: Scenario) -> None:
    streaks = s.luna("streak", "--json").json()
    assert streaks["patient"] == "Me" and streaks["journal"]["longest_days"] >= 1
    assert streaks["doses"]["scheduled"] is True  # Metformin, stopped, had a schedule
    assert "in a row" in s.luna("streak").out


def templates_delete(s: Scenario) -> None:
    s.luna("templates", "delete", "Evening", code=EXIT_USAGE)  # nobody to ask: --yes
    s.luna("templates", "delete", "Evening", "--yes")
    assert s.luna("templates", "--json").json() == []
    s.luna("delete", s.found["templated"][:8], "--yes")  # the vault as it was


def unlock(s: Scenario) -> None:
    """An agent for the rest of the sitting (ended by `lock` below; if a step fails
    between, it ends itself after a minute unused)."""
    derived_here = s.luna("list", "--json").json()
    assert "Unlocked with the owner key" in s.luna("unlock", "--for", "5m", "--idle", "1m").out
    assert s.luna("list", "--json").json() == derived_here  # the same, served by the agent
    s.luna("unlock", code=1)  # one runs already


def agent_status(s: Scenario) -> None:
    status = s.luna("agent", "status", "--json").json()
    assert status["unlocked"] and status["role"] == "owner" and status["vault"] == str(s.home)


def agent(s: Scenario) -> None:
    """`luna agent` alone names what to say; `--wait` runs in the foreground (test_agent)."""
    assert "luna agent status" in s.luna("agent", code=EXIT_USAGE).err


def lock(s: Scenario) -> None:
    assert s.luna("lock").out.startswith("Locked")
    assert not s.luna("agent", "status", "--json").json()["running"]


def bench(s: Scenario) -> None:
    """The smallest benchmark; it builds its vaults in a temp folder, never in LUNA_HOME."""
    untouched = s.tmp / "bench-home"
    result = s.luna("bench", "--entries", "100", "--messages", "0", "--repeat", "1", "--json",
                    home=untouched)
    names = "\n".join(row["name"] for row in result.json())
    assert "bulk import of 100 entries" in names and "backup + verify" in names
    apple = s.luna("bench", "--apple-health", "1000", "--json", home=untouched).json()
    assert [row["unit"] for row in apple] == ["s", "readings", "MB"] and apple[1]["value"] > 0
    synced = s.luna("bench", "--sync", "100", "--json", home=untouched).json()
    assert [row["unit"] for row in synced] == ["s", "s", "s", "kB", "s", "s"]
    assert synced[3]["value"] > 0  # the change files were written
    assert not untouched.exists()


def sync_setup(s: Scenario) -> None:
    out = s.luna("sync", "setup", str(s.tmp / "sync")).out
    [device] = [p for p in (s.tmp / "sync").iterdir() if p.is_dir()]
    assert device.name in out and list(device.glob("snapshot-*.lunabak"))
    s.found["sync device"] = device.name


def sync_join(s: Scenario) -> None:
    laptop = s.tmp / "laptop"
    s.luna("sync", "join", str(s.tmp / "sync"), home=laptop)
    assert s.luna("list", "--json", home=laptop).json() == s.luna("list", "--json").json()


def sync_(s: Scenario) -> None:
    laptop = s.tmp / "laptop"
    s.luna("add", "Written on the laptop", home=laptop)
    assert "Wrote 1 change" in s.luna("sync", home=laptop).out
    s.luna("sync")
    [arrived] = [e for e in s.luna("list", "--json").json()
                 if e["content"] == "Written on the laptop"]
    s.luna("delete", arrived["id"], "--yes")  # and a delete goes back
    s.luna("sync")
    s.luna("sync", home=laptop)
    assert s.luna("list", "--json", home=laptop).json() == s.luna("list", "--json").json()


def sync_status(s: Scenario) -> None:
    status = s.luna("sync", "status", "--json").json()
    assert status["device_id"] == s.found["sync device"]
    [laptop] = status["devices"]
    assert laptop["applied_seq"] == laptop["available_seq"] >= 1
    s.found["laptop device"] = laptop["device_id"]


def sync_compact(s: Scenario) -> None:
    s.luna("sync", home=s.tmp / "laptop")  # the laptop says it applied everything
    mine = s.tmp / "sync" / s.found["sync device"]
    assert list(mine.glob("*.change")) == [mine / "0000000001.change"]  # the delete
    assert "Removed 1 change file " in s.luna("sync", "compact").out
    assert not list(mine.glob("*.change"))


def sync_forget(s: Scenario) -> None:
    s.luna("sync", "forget", s.found["laptop device"])
    [laptop] = s.luna("sync", "status", "--json").json()["devices"]
    assert laptop["forgotten"]


SCENARIO: dict[str, Callable[[Scenario], None]] = {
    "init": init, "settings": settings, "add": add, "list": list_, "search": search,
    "plan": plan,
    "patients": patients, "patients add": patients_add, "patients rename": patients_rename,
    "patients archive": patients_archive, "patients unarchive": patients_unarchive,
    "meds add": meds_add, "meds": meds, "dose": dose, "doses": doses, "remind": remind,
    "meds stop": meds_stop,
    "appts add": appts_add, "appts": appts, "appts export": appts_export,
    "vitals add": vitals_add, "vitals": vitals, "insights": insights,
    "records add": records_add, "records": records, "records show": records_show,
    "attach": attach, "attachment get": attachment_get,
    "attachment delete": attachment_delete,
    "export": export, "handoff": handoff, "import": import_, "records delete": records_delete,
    "ai config": ai_config, "ai": ai, "ask": ask, "stats": stats,
    "backup create": backup_create, "backup verify": backup_verify,
    "backup list": backup_list, "backup restore": backup_restore,
    "backup prune": backup_prune,
    "sync setup": sync_setup, "sync join": sync_join, "sync": sync_,
    "sync status": sync_status, "sync compact": sync_compact, "sync forget": sync_forget,
    "doctor": doctor,
    "keys": keys, "keys add": keys_add, "keys list": keys_list, "keys revoke": keys_revoke,
    "keys recovery": keys_recovery, "passwd": passwd, "keys rotate": keys_rotate,
    "star": star, "edit": edit, "delete": delete,
    "templates add": templates_add, "templates": templates,
    "templates list": templates_list, "templates edit": templates_edit, "streak": streak,
    "templates delete": templates_delete,
    "unlock": unlock, "agent status": agent_status, "agent": agent, "lock": lock,
    "bench": bench,
}


@pytest.fixture
def model():
    server = FakeModel().start()
    yield server
    server.stop()


def test_every_command_works_from_the_installed_wheel(installed: Installed,
                                                      command_tree: list[dict],
                                                      tmp_path: Path, model: FakeModel) -> None:
    commands = runnable_commands(command_tree)
    assert commands <= set(SCENARIO), "commands without a step in SCENARIO"
    paths = {" ".join(node["path"]) for node in command_tree}
    scenario = Scenario(installed, tmp_path, paths, model)
    for command, step in SCENARIO.items():
        step(scenario)
        assert command in scenario.ran, f"the step for `luna {command}` never ran it"
    assert scenario.ran >= commands


# -- the app ----------------------------------------------------------------------------------


def test_the_installed_app_unlocks_to_the_dashboard(installed: Installed,
                                                    tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(LUNA_HOME=str(home), LUNA_CONFIG_DIR=str(tmp_path / "config"),
                    LUNA_PASSPHRASE=PASSPHRASE)
    subprocess.run([str(installed.luna), "init", "--kdf-seconds", "0"], env=env,
                   cwd=installed.workdir, check=True, capture_output=True, timeout=120)
    shown = installed.probe("app", str(home), env=env)
    assert shown["gate"] == "UnlockScreen"
    assert shown["unlocked"] == {"mode": "dashboard", "screen": "DashboardScreen"}
    places = ["dashboard", "journal", "medications", "appointments", "vitals", "records",
              "companion", "patients", "backups"]
    assert {key: place["mode"] for key, place in shown["places"].items()} == dict(
        zip("123456789", places, strict=True))
    # The app's own styles and the places' (read once the unlock screen showed), both
    # from the installed package.
    assert {Path(path).name for path in shown["stylesheets"]} >= {"app.tcss", "places.tcss"}
    for stylesheet in shown["stylesheets"]:
        assert Path(stylesheet).is_relative_to(installed.venv)
