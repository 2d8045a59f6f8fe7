"""Covering indexes for the vitals chart, which reads years of readings, moods and
hours of sleep at once.

Through SQLCipher every table page read is a page decrypted and authenticated; with
the values in the index, ten years of daily mood and sleep (100,000 entries of about
1 KB each) are read from the index alone, not from every entry's page. The vitals
index gains the values and replaces the narrower one it extends.
"""


def up(migrator, db):
    db.execute_sql(
        "CREATE INDEX idx_journal_entries_daily_scores"
        " ON journal_entries (patient_id, entry_date, mood_scale, sleep_hours)"
    )
    db.execute_sql("DROP INDEX vitals_patient_id_kind_measured_at")
    db.execute_sql(
        "CREATE INDEX idx_vitals_series"
        " ON vitals (patient_id, kind, measured_at, value, value2, unit)"
    )
