-- 0013_fts_pending: search entries are written once per transaction instead of once per message.
-- FTS5 flushes its pending terms to disk at every statement savepoint, and the insert trigger
-- made each inserted message one: a batch of 500 headers wrote 500 index segments and merged
-- them (two thirds of the CPU of a header sync). Now the trigger notes the message here, and
-- `Store::write` indexes everything noted in one INSERT … SELECT just before it commits, so the
-- table is empty between transactions and the index is never behind a committed message.
-- `indexed` = 1: message_fts already holds an entry for it, to be replaced (new body text).
CREATE TABLE fts_pending (
    id      INTEGER PRIMARY KEY,
    body    TEXT,
    indexed INTEGER NOT NULL DEFAULT 0 CHECK (indexed IN (0, 1))
) STRICT;
DROP TRIGGER message_fts_insert;
CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
    INSERT INTO fts_pending (id) VALUES (NEW.id) ON CONFLICT (id) DO NOTHING;
END;
DROP TRIGGER message_fts_delete;
CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
    DELETE FROM message_fts WHERE rowid = OLD.id;
    DELETE FROM fts_pending WHERE id = OLD.id;
END;
-- The messages whose whole source a download for offline reading still wants, newest first:
-- once a folder is downloaded this index is empty, so asking whether anything is left costs
-- nothing however large the folder.
CREATE INDEX message_body_wanted ON message (folder_id, date)
    WHERE body_state < 2 AND uid IS NOT NULL;
