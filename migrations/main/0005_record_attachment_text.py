"""Text extracted from attachments, searchable with the record.

Each attachment keeps the text read from it (a text file, a PDF's text layer), so
removing one attachment removes its words; the record keeps all of its attachments'
text together in `extracted_text`, which the full-text index covers next to the
person's own free text (`text`), so editing a record never shows or changes words
that came from a file. The same file attached twice to one record is refused by a
unique index (the service says so first, in a sentence).
"""

FTS_COLUMNS = "title, description, tags, text, extracted_text"
OLD = ", ".join(f"old.{c.strip()}" for c in FTS_COLUMNS.split(","))
NEW = ", ".join(f"new.{c.strip()}" for c in FTS_COLUMNS.split(","))

STATEMENTS = [
    "ALTER TABLE records ADD COLUMN extracted_text TEXT",
    "ALTER TABLE attachments ADD COLUMN extracted_text TEXT",
    "DROP TRIGGER records_fts_insert",
    "DROP TRIGGER records_fts_delete",
    "DROP TRIGGER records_fts_update",
    "DROP TABLE records_fts",
    f"""CREATE VIRTUAL TABLE records_fts USING fts5(
    {FTS_COLUMNS},
    content='records', content_rowid='record_no',
    tokenize='unicode61 remove_diacritics 2'
)""",
    "INSERT INTO records_fts (records_fts, rank) VALUES ('secure-delete', 1)",
    f"""CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN
    INSERT INTO records_fts (rowid, {FTS_COLUMNS})
    VALUES (new.record_no, {NEW});
END""",
    f"""CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN
    INSERT INTO records_fts (records_fts, rowid, {FTS_COLUMNS})
    VALUES ('delete', old.record_no, {OLD});
END""",
    f"""CREATE TRIGGER records_fts_update AFTER UPDATE OF {FTS_COLUMNS}
ON records BEGIN
    INSERT INTO records_fts (records_fts, rowid, {FTS_COLUMNS})
    VALUES ('delete', old.record_no, {OLD});
    INSERT INTO records_fts (rowid, {FTS_COLUMNS})
    VALUES (new.record_no, {NEW});
END""",
    "INSERT INTO records_fts (records_fts) VALUES ('rebuild')",
    "DROP INDEX attachments_record_id_sha256",
    "CREATE UNIQUE INDEX attachments_record_id_sha256 ON attachments (record_id, sha256)",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
