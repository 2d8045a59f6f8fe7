"""Typed access to the elements of a FHIR resource someone else wrote: each element
Luna reads must be of the type FHIR gives it, or the whole file is refused with a
sentence naming the entry (an ImportRejected), never a traceback.

Also: finding the entry a reference names (by fullUrl, or Type/id), the key an entry is
known by in the file, Luna's own identifiers and details extension read back, and FHIR
times as Luna stores them (local, to the minute).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from luna_tui.errors import ImportRejected
from luna_tui.services.fhir.codes import LUNA_DETAILS, luna_identifier_system


class Index:
    """Finds the entry a reference names: by fullUrl, or by Type/id."""

    def __init__(self, resources: list[tuple[str | None, dict[str, Any]]]) -> None:
        self.keys: dict[str, str] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        for url, resource in resources:
            key = entry_key(url, resource)
            names = [url] if url else []
            if isinstance(resource.get("id"), str):
                names.append(f"{resource['resourceType']}/{resource['id']}")
                if url and url.endswith(f"/{names[-1]}"):
                    names.append(url)
            for name in names:
                self.keys.setdefault(name, key)
            self.resources[key] = resource

    def key(self, reference: str | None) -> str | None:
        return self.keys.get(reference) if reference else None


def entry_key(url: str | None, resource: dict[str, Any]) -> str:
    if url:
        return url
    if isinstance(resource.get("id"), str):
        return f"{resource['resourceType']}/{resource['id']}"
    canonical = json.dumps(resource, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class Resource:
    """A resource and typed access to its elements: an element of the wrong type
    refuses the file, naming the entry."""

    def __init__(self, resource: dict[str, Any], number: int, url: str | None,
                 index: Index) -> None:
        self.data, self.number, self.index = resource, number, index
        self.type = resource["resourceType"]
        self.key = entry_key(url, resource)

    def refuse(self, what: str) -> ImportRejected:
        return ImportRejected(f"entry {self.number} ({self.type}): {what}.")

    def get(self, path: str, kind: type | tuple[type, ...], within: Any = None) -> Any:
        node = self.data if within is None else within
        for part in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
            if node is None:
                return None
        if kind in (int, float, (int, float)) and isinstance(node, bool):
            raise self.refuse(f"{path} is not a number")
        if not isinstance(node, kind):
            raise self.refuse(f"{path} is not {kind_name(kind)}")
        return node

    def text(self, path: str, within: Any = None) -> str | None:
        return self.get(path, str, within)

    def items(self, path: str, within: Any = None) -> list[Any]:
        return self.get(path, list, within) or []

    def first(self, path: str, within: Any = None) -> dict[str, Any] | None:
        items = self.items(path, within)
        if items and not isinstance(items[0], dict):
            raise self.refuse(f"{path} holds something that is not an object")
        return items[0] if items else None

    def concept_text(self, path: str, within: Any = None) -> str | None:
        """A CodeableConcept's text, else its first coding's display."""
        concept = self.get(path, dict, within)
        if concept is None:
            return None
        coding = self.first("coding", concept)
        return self.text("text", concept) or (self.text("display", coding) if coding else None)

    def codings(self, path: str, within: Any = None) -> list[tuple[str | None, str | None]]:
        concept = self.get(path, dict, within) or {}
        found = []
        for coding in self.items("coding", concept):
            if not isinstance(coding, dict):
                raise self.refuse(f"{path}.coding holds something that is not an object")
            found.append((self.text("system", coding), self.text("code", coding)))
        return found

    def reference(self, path: str, within: Any = None) -> str | None:
        """The key of the entry a Reference names, if the Bundle holds it."""
        return self.index.key(self.text(f"{path}.reference", within))

    def luna_id(self, table: str) -> str | None:
        """The Luna row id this resource came from, when Luna wrote it: a UUID under
        Luna's identifier system for `table`."""
        system = luna_identifier_system(table)
        for ident in self.items("identifier"):
            if isinstance(ident, dict) and ident.get("system") == system:
                value = self.text("value", ident)
                try:
                    return str(uuid.UUID(value)) if value and len(value) == 36 else None
                except ValueError:
                    return None
        return None

    def details(self) -> dict[str, Any]:
        """Luna's details extension as {name: value or [values]} ({} when absent)."""
        for extension in self.items("extension"):
            if isinstance(extension, dict) and extension.get("url") == LUNA_DETAILS:
                return self._parts(self.items("extension", extension))
        return {}

    def _parts(self, parts: list[Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for part in parts:
            if not isinstance(part, dict) or not isinstance(part.get("url"), str):
                raise self.refuse("Luna's details extension is damaged")
            name = part["url"]
            if "extension" in part:
                value: Any = self._parts(self.items("extension", part))
            else:
                value = next((v for k, v in part.items() if k.startswith("value")), None)
            values.setdefault(name, []).append(value)
        return {name: found[0] if len(found) == 1 else found for name, found in values.items()}

    def subject(self, path: str = "subject") -> str | None:
        return self.reference(path)


def kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", list: "a list", dict: "an object", bool: "true or false",
             int: "a whole number"}
    if isinstance(kind, tuple):
        return "a number"
    return names.get(kind, kind.__name__)


def local_time(resource: Resource, value: str) -> str:
    """A FHIR date or dateTime as Luna stores it: a date stays a date; a moment becomes
    local time to the minute (one without an offset is taken as local already)."""
    if len(value) == 10:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise resource.refuse(f"{value!r} is not a date") from None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise resource.refuse(f"{value!r} is not a date and time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M")
