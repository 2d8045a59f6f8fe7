"""Run under `dbus-run-session` by tests/test_desktop_notifications.py: a real session
bus with python-dbusmock's notification-daemon template on it, and Luna's
DesktopNotifier sending a dose reminder there; the daemon then presses "Taken" (it
emits ActionInvoked on the bus) and the dose must be logged. Prints one JSON object.

argv: the folder for the vault, the Python that has dbusmock (the system's).

dbusmock's objects leave their signals out of their introspection, which a real daemon
declares and desktop-notifier reads to subscribe; the probe adds the two signals of the
freedesktop specification to what the bus answered, nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from dbus_fast import Variant
from dbus_fast.aio import MessageBus
from dbus_fast.introspection import Arg, Signal

from luna_tui.home import VaultLayout
from luna_tui.services.medications import Medications
from luna_tui.services.notifiers import agent_reminding
from luna_tui.services.settings import Settings
from luna_tui.services.vault_setup import create_vault
from luna_tui.store.models.medications import MedicationDose
from luna_tui.vault.kdf import KdfParams

NAME, PATH = "org.freedesktop.Notifications", "/org/freedesktop/Notifications"


class Clock:
    def __init__(self) -> None:
        local = dt.datetime.combine(dt.date(2026, 11, 22), dt.time(7, 0))
        self.moment = local.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self.moment

    def wall_time(self) -> float:
        return self.moment.timestamp()


def with_signals(introspect):  # noqa: ANN001, ANN201
    async def introspect_declaring_signals(bus, bus_name, path, *args, **kwargs):  # noqa: ANN001, ANN202
        node = await introspect(bus, bus_name, path, *args, **kwargs)
        if bus_name == NAME:
            for interface in node.interfaces:
                if interface.name == NAME and not interface.signals:
                    interface.signals += [
                        Signal("ActionInvoked", [Arg("u", name="id"),
                                                 Arg("s", name="action_key")]),
                        Signal("NotificationClosed", [Arg("u", name="id"),
                                                      Arg("u", name="reason")])]
        return node

    return introspect_declaring_signals


async def mock_object(bus: MessageBus):  # noqa: ANN201
    for _ in range(200):
        names = await (bus.get_proxy_object(
            "org.freedesktop.DBus", "/org/freedesktop/DBus",
            await bus.introspect("org.freedesktop.DBus", "/org/freedesktop/DBus"))
            .get_interface("org.freedesktop.DBus").call_list_names())
        if NAME in names:
            break
        await asyncio.sleep(0.05)
    node = await bus.introspect(NAME, PATH)
    return bus.get_proxy_object(NAME, PATH, node).get_interface("org.freedesktop.DBus.Mock")


def run(folder: Path, mock_python: str) -> dict:
    daemon = subprocess.Popen([mock_python, "-m", "dbusmock", "--template",
                               "notification_daemon", "-p",
                               json.dumps({"capabilities": "body actions"})],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(main(folder))
    finally:
        daemon.terminate()
        daemon.wait(10)


async def main(folder: Path) -> dict:
    MessageBus.introspect = with_signals(MessageBus.introspect)
    bus = await MessageBus().connect()
    mock = await mock_object(bus)
    clock = Clock()
    layout = VaultLayout(folder / "home")
    kdf = KdfParams(memory_kib=8, time_cost=1, parallelism=1, salt=os.urandom(16))
    session = create_vault(layout, "correct horse battery staple luna", kdf=kdf,
                           clock=clock).session
    try:
        me = Settings(session).current_patient_id()
        medication = Medications(session).create(me, "Metformin", "500 mg",
                                                 "once daily")
        clock.moment += dt.timedelta(hours=1)  # 08:00: its dose is due
        terminal = io.StringIO()  # what the agent says on its terminal
        reminding = agent_reminding(session, terminal)
        sent = await reminding.tick()
        calls = await mock.call_get_method_calls("Notify")
        _, args = calls[-1]
        app_name, _, _, summary, body, actions = (a.value if isinstance(a, Variant)
                                                  else a for a in args[:6])
        taken_key = actions[actions.index("Taken") - 1]
        await mock.call_emit_signal(NAME, "ActionInvoked", "us",
                                    [Variant("u", 1), Variant("s", taken_key)])
        for _ in range(200):
            if terminal.getvalue():
                break
            await asyncio.sleep(0.05)
        doses = session.run(lambda: [(d.scheduled_at[-5:], d.status) for d in
                                     MedicationDose.select().where(
                                         MedicationDose.medication == medication.id)])
        reminding.release()
    finally:
        session.close()
    return {"sent": sent, "app_name": app_name, "summary": summary, "body": body,
            "buttons": actions[1::2], "told": terminal.getvalue().splitlines(),
            "doses": doses}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), sys.argv[2])))
