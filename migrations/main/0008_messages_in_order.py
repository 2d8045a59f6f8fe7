"""A session's messages in the order they were written, read from an index.

The companion shows a session's newest messages and reads older ones a page at a time
(`id < the oldest shown`, newest first). The one index on messages so far is
(session_id, created_at DESC), which gives neither that order nor that range: SQLite
read every message of the session and sorted them to return twenty. With
(session_id, id) a page is a short walk down the index, at 40 messages or 40,000; the
service's other reads of a session in order (the history sent to the model, the last
unanswered question) use it too. The older index stays: an import looks messages up by
session and time.
"""


def up(migrator, db):
    db.execute_sql("CREATE INDEX idx_messages_session_order ON messages (session_id, id)")
