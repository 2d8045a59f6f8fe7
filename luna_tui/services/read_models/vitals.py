"""The vitals place: the kinds with their latest reading, and one kind's chart and first
page of readings."""

from __future__ import annotations

from dataclasses import dataclass

from luna_tui.services.base import DomainService, on_db_thread
from luna_tui.services.health_chart import ChartData, HealthChart
from luna_tui.services.vitals import VitalPage, Vitals, VitalView


@dataclass(frozen=True)
class KindView:
    chart: ChartData
    page: VitalPage


@dataclass(frozen=True)
class VitalsView:
    latest: dict[str, VitalView]
    kinds_in_use: list[str]
    shown: KindView


class VitalsPlace(DomainService):
    @on_db_thread
    def overview(self, patient_id: str, kind: str, period: str, *,
                 page_size: int) -> VitalsView:
        vitals = Vitals(self.session)
        return VitalsView(vitals.latest(patient_id), vitals.kinds_in_use(patient_id),
                          self.kind(patient_id, kind, period, page_size=page_size))

    @on_db_thread
    def kind(self, patient_id: str, kind: str, period: str, *, page_size: int) -> KindView:
        return KindView(HealthChart(self.session).data(patient_id, kind, period),
                        Vitals(self.session).page(patient_id, kind=kind, limit=page_size))
