"""Entry templates: checked, unique by name whatever its case, found by a name's start,
filled for a day, audited without their text, and carried by exports and imports."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from luna_tui.errors import ImportRejected, NotFound, ValidationError
from luna_tui.services.entry_templates import EntryTemplates, fill
from luna_tui.services.exporting import Exporter
from luna_tui.services.importing import Importer


def test_a_template_is_made_changed_and_deleted(session):
    templates = EntryTemplates(session)
    made = templates.create("Evening check-in", title="Evening {date}",
                            body="## Good\n\n## Hard\n", tags=["#Evening", "calm"],
                            asks_mood=True, asks_sleep=False)
    assert (made.name, made.title, made.body, made.tags, made.journal_type, made.asks_sleep) == (
        "Evening check-in", "Evening {date}", "## Good\n\n## Hard", ("evening", "calm"),
        "free", False)
    changed = templates.update(made.id, name="Evening", journal_type="prompted",
                               prompt="What helped?")
    assert (changed.name, changed.journal_type, changed.prompt) == (
        "Evening", "prompted", "What helped?")
    # A type other than prompted keeps no prompt.
    assert templates.update(made.id, journal_type="mood_check").prompt is None
    templates.delete(made.id)
    assert templates.list() == []
    with pytest.raises(NotFound):
        templates.get(made.id)


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"name": "  "}, "name", "can't be blank"),
    ({"name": "x" * 61}, "name", "too long"),
    ({"name": "Ok", "journal_type": "prompted"}, "prompt", "needs its prompt"),
    ({"name": "Ok", "journal_type": "diary"}, "journal_type", "not a journal type"),
    ({"name": "Ok", "body": "bell \x07"}, "body", "control character"),
])
def test_a_bad_template_is_refused_naming_its_field(session, fields, field, words):
    name = fields.pop("name")
    with pytest.raises(ValidationError, match=words) as refused:
        EntryTemplates(session).create(name, **fields)
    assert refused.value.field == field


def test_names_are_unique_whatever_their_case_and_found_by_their_start(session):
    templates = EntryTemplates(session)
    evening = templates.create("Evening")
    templates.create("Everyday")
    with pytest.raises(ValidationError, match="already a template called 'Evening'"):
        templates.create("EVENING")
    assert templates.find("evening").id == evening.id
    assert templates.find("even").id == evening.id
    with pytest.raises(ValidationError, match="More than one template matches 'ev'"):
        templates.find("ev")
    with pytest.raises(NotFound, match="no template called 'morning'"):
        templates.find("morning")


def test_placeholders_are_filled_for_the_day_and_nothing_else_in_braces():
    from luna_tui.services.entry_templates import TemplateView

    template = TemplateView("t", "T", "{weekday} {date}", "Started {time}; {mood} {}",
                            ("a",), "free", None, True, True)
    filled = fill(template, dt.datetime(2028, 2, 29, 21, 5))
    assert (filled.title, filled.content) == ("Tuesday 2028-02-29",
                                              "Started 21:05; {mood} {}")


def test_the_audit_log_keeps_lengths_not_the_text(session):
    from luna_tui.store.models.audit import AuditEvent

    EntryTemplates(session).create("Private words", body="My secret worry")
    rows = session.run(lambda: [row.diff for row in AuditEvent.select().where(
        AuditEvent.event_name == "journal.template.create")])
    assert rows and all("secret worry" not in diff and "<15 characters>" in diff for diff in rows)


def _export(session) -> dict:
    out = io.StringIO()
    Exporter(session).write_json(out, include_private=True)
    return json.loads(out.getvalue())


def test_an_import_refuses_a_template_name_already_another_templates(session):
    EntryTemplates(session).create("Evening", body="ours")
    document = _export(session)
    [row] = document["tables"]["entry_templates"]
    row["id"], row["name"] = "another-template", "EVENING"
    with pytest.raises(ImportRejected, match="already another template's"):
        Importer(session).import_document(document)
    # The same template (same id) comes in again without complaint.
    assert Importer(session).import_document(_export(session))
    assert [t.name for t in EntryTemplates(session).list()] == ["Evening"]
