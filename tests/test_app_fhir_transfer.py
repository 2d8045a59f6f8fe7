"""The Settings place's Export & import tab speaks FHIR: an export written as a FHIR
R4 Bundle (0600, said to be NOT encrypted), and the same Bundle imported back, which
adds nothing to the vault it came from."""

from __future__ import annotations

import json

from textual.widgets import Input, Select

from app_helpers import SIZE, make_app, notifications, settle, settle_until, unlock
from luna_tui.services.vitals import Vitals


async def test_export_a_fhir_bundle_from_the_app_and_import_it_again(layout, session,
                                                                     tmp_path):
    from luna_tui.services.settings import Settings

    me = Settings(session).current_patient_id()
    Vitals(session).record(me, "heart_rate", 61, measured_at="2026-11-21 07:00")
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("0")
        await settle(pilot)
        app.screen.show_part("transfer")
        await settle(pilot)
        app.screen.query_one("#export-format", Select).value = "fhir"
        await pilot.pause()
        path = app.screen.query_one("#export-path", Input)
        assert path.value.endswith("luna-export.fhir.json")  # the format's own extension
        target = tmp_path / "health.fhir.json"
        path.value = str(target)
        await pilot.press("ctrl+s")
        await settle_until(pilot, target.exists)
        document = json.loads(target.read_text())
        assert document["resourceType"] == "Bundle" and document["type"] == "collection"
        (reading,) = [e["resource"] for e in document["entry"]
                      if e["resource"]["resourceType"] == "Observation"]
        assert reading["code"]["coding"][0]["code"] == "8867-4"
        assert oct(target.stat().st_mode & 0o777) == "0o600"
        assert "NOT encrypted" in notifications(pilot)[-1]

        app.screen.query_one("#import-path", Input).value = str(target)
        app.screen.query_one("#import-format", Select).value = "fhir"
        app.screen.query_one("#import").press()
        await settle_until(pilot, lambda: any("FHIR Bundle" in n
                                              for n in notifications(pilot)))
        said = next(n for n in notifications(pilot) if "FHIR Bundle" in n)
        assert "Imported 0 rows" in said and "2 were already in this vault" in said
