"""One captured change, as a change file carries it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    table: str
    key: str
    op: str  # "u" (these columns now hold these values) or "d" (the row is deleted)
    cols: dict[str, Any] | None
    hlc: int

    def to_list(self) -> list[Any]:
        return [self.table, self.key, self.op, self.cols, self.hlc]

    @classmethod
    def from_list(cls, item: list[Any]) -> Change:
        table, key, op, cols, hlc = item
        if op not in ("u", "d") or not isinstance(hlc, int):
            raise ValueError("not a change")
        return cls(str(table), str(key), op, cols if op == "u" else None, hlc)
