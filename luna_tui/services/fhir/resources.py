"""What every FHIR resource Luna writes is built from: stable ids, references, times
with their offset, narrative, and the Luna details extension.

Ids. A resource's id is a UUID derived (uuid5) from the Luna table and row id it comes
from, so exporting the same vault twice gives the same ids, and two rows of different
tables never share one; its fullUrl is `urn:uuid:<id>`. The Luna row id itself also
goes along as an identifier (system `…/id/<table>`), which is how a Luna vault
importing the file finds its rows again.

Luna details. What Luna keeps that FHIR has no element for (a medication's pharmacy,
its dose slots; a record's tags) travels in one complex extension per resource, so a
Luna vault takes it back and other tools ignore it safely.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from luna_tui.services.fhir.codes import LUNA_BASE, LUNA_DETAILS, luna_identifier_system

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, LUNA_BASE)


def resource_id(table: str, luna_id: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{table}/{luna_id}"))


def full_url(fhir_id: str) -> str:
    return f"urn:uuid:{fhir_id}"


def reference(table: str, luna_id: str, display: str | None = None) -> dict[str, str]:
    ref = {"reference": full_url(resource_id(table, luna_id))}
    if display:
        ref["display"] = display
    return ref


def identifier(table: str, luna_id: str) -> list[dict[str, str]]:
    return [{"system": luna_identifier_system(table), "value": luna_id}]


def local_moment(text: str) -> str:
    """A local `YYYY-MM-DDTHH:MM` as a FHIR dateTime, which needs its offset: the one
    this machine's time zone had at that moment."""
    return dt.datetime.fromisoformat(text).astimezone().isoformat(timespec="seconds")


def narrative(lines: Iterable[str]) -> dict[str, str]:
    """Human-readable text for a resource or a section (escaped, one line a paragraph)."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line) or "<p>-</p>"
    return {"status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def note(*texts: str | None) -> list[dict[str, str]]:
    return [{"text": text} for text in texts if text]


def details(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Luna details extension holding `values` (None and empty lists left out); an
    empty list when there is nothing to hold."""
    parts = _parts(values)
    return [{"url": LUNA_DETAILS, "extension": parts}] if parts else []


def _parts(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for name, value in values.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            part = _part(name, item)
            if part is not None:
                parts.append(part)
    return parts


def _part(name: str, value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return {"url": name, "valueBoolean": value}
    if isinstance(value, int):
        return {"url": name, "valueInteger": value}
    if isinstance(value, float):
        return {"url": name, "valueDecimal": value}
    if isinstance(value, Mapping):
        parts = _parts(value)
        return {"url": name, "extension": parts} if parts else None
    return {"url": name, "valueString": str(value)}
