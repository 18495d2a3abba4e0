-- Conversations per folder, for the threaded message list: one row per thread that has messages
-- in the folder, with its newest message, last date and counts. Kept by triggers in the same
-- transaction as every message change, so a threaded page is one index range of this table
-- however many messages the folder holds. A message without a thread counts as a thread of its
-- own, keyed by minus its id.
CREATE TABLE folder_thread (
    folder_id   INTEGER NOT NULL REFERENCES folder (id) ON DELETE CASCADE,
    thread      INTEGER NOT NULL,
    newest      INTEGER NOT NULL,
    last_date   INTEGER NOT NULL,
    messages    INTEGER NOT NULL,
    unread      INTEGER NOT NULL,
    PRIMARY KEY (folder_id, thread)
) STRICT, WITHOUT ROWID;

CREATE INDEX folder_thread_date ON folder_thread (folder_id, last_date, newest);

INSERT INTO folder_thread (folder_id, thread, newest, last_date, messages, unread)
    SELECT folder_id, coalesce(thread_id, -id), 0, max(date), count(*), sum((flags & 1) = 0)
    FROM message GROUP BY folder_id, coalesce(thread_id, -id);
UPDATE folder_thread SET newest = (
    SELECT m.id FROM message m
    WHERE m.folder_id = folder_thread.folder_id
      AND coalesce(m.thread_id, -m.id) = folder_thread.thread
    ORDER BY m.date DESC, m.id DESC LIMIT 1
);

CREATE TRIGGER folder_thread_insert AFTER INSERT ON message BEGIN
    INSERT INTO folder_thread (folder_id, thread, newest, last_date, messages, unread)
    VALUES (NEW.folder_id, coalesce(NEW.thread_id, -NEW.id), NEW.id, NEW.date, 1,
            (NEW.flags & 1) = 0)
    ON CONFLICT (folder_id, thread) DO UPDATE SET
        messages = messages + 1,
        unread = unread + excluded.unread,
        newest = CASE WHEN excluded.last_date >= last_date THEN excluded.newest ELSE newest END,
        last_date = max(last_date, excluded.last_date);
END;

CREATE TRIGGER folder_thread_delete AFTER DELETE ON message BEGIN
    UPDATE folder_thread SET messages = messages - 1, unread = unread - ((OLD.flags & 1) = 0)
    WHERE folder_id = OLD.folder_id AND thread = coalesce(OLD.thread_id, -OLD.id);
    DELETE FROM folder_thread
    WHERE folder_id = OLD.folder_id AND thread = coalesce(OLD.thread_id, -OLD.id)
      AND messages <= 0;
    UPDATE folder_thread SET
        newest = coalesce((SELECT m.id FROM message m
            WHERE m.thread_id = OLD.thread_id AND m.folder_id = OLD.folder_id
            ORDER BY m.date DESC, m.id DESC LIMIT 1), newest),
        last_date = coalesce((SELECT m.date FROM message m
            WHERE m.thread_id = OLD.thread_id AND m.folder_id = OLD.folder_id
            ORDER BY m.date DESC, m.id DESC LIMIT 1), last_date)
    WHERE folder_id = OLD.folder_id AND thread = OLD.thread_id AND newest = OLD.id;
END;

-- Read or unread, nothing else changed: one counter (mark-all-read of a big folder stays cheap).
CREATE TRIGGER folder_thread_seen AFTER UPDATE OF flags ON message
WHEN (OLD.flags & 1) <> (NEW.flags & 1) AND OLD.folder_id IS NEW.folder_id
     AND OLD.thread_id IS NEW.thread_id AND OLD.date IS NEW.date
BEGIN
    UPDATE folder_thread SET unread = unread + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0)
    WHERE folder_id = NEW.folder_id AND thread = coalesce(NEW.thread_id, -NEW.id);
END;

-- A move, a new thread or a new date: out of the old (folder, thread), into the new one.
CREATE TRIGGER folder_thread_update AFTER UPDATE OF folder_id, thread_id, date ON message
WHEN OLD.folder_id IS NOT NEW.folder_id OR OLD.thread_id IS NOT NEW.thread_id
     OR OLD.date IS NOT NEW.date
BEGIN
    UPDATE folder_thread SET messages = messages - 1, unread = unread - ((OLD.flags & 1) = 0)
    WHERE folder_id = OLD.folder_id AND thread = coalesce(OLD.thread_id, -OLD.id);
    DELETE FROM folder_thread
    WHERE folder_id = OLD.folder_id AND thread = coalesce(OLD.thread_id, -OLD.id)
      AND messages <= 0;
    UPDATE folder_thread SET
        newest = coalesce((SELECT m.id FROM message m
            WHERE m.thread_id = OLD.thread_id AND m.folder_id = OLD.folder_id
            ORDER BY m.date DESC, m.id DESC LIMIT 1), newest),
        last_date = coalesce((SELECT m.date FROM message m
            WHERE m.thread_id = OLD.thread_id AND m.folder_id = OLD.folder_id
            ORDER BY m.date DESC, m.id DESC LIMIT 1), last_date)
    WHERE folder_id = OLD.folder_id AND thread = OLD.thread_id
      AND newest = OLD.id;
    INSERT INTO folder_thread (folder_id, thread, newest, last_date, messages, unread)
    VALUES (NEW.folder_id, coalesce(NEW.thread_id, -NEW.id), NEW.id, NEW.date, 1,
            (NEW.flags & 1) = 0)
    ON CONFLICT (folder_id, thread) DO UPDATE SET
        messages = messages + 1,
        unread = unread + excluded.unread,
        newest = CASE WHEN excluded.last_date >= last_date THEN excluded.newest ELSE newest END,
        last_date = max(last_date, excluded.last_date);
END;
