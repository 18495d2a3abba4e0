-- 0005_message_ids_never_reused: a message id is never given to another message.
--
-- `message.id` is the id scripts and the window hold (`tern show 42`). Without AUTOINCREMENT,
-- SQLite gives a new row the highest id plus one, so deleting the newest message and storing
-- another handed its id to different mail: a script holding the id could act on the wrong
-- message. The table is rebuilt with AUTOINCREMENT (the documented way: new table, copy, drop,
-- rename; the migration runner turns foreign keys off around it and checks them before the
-- commit), keeping every id, so the FTS index (rowid = id), folder_thread and every reference
-- stay valid. Its indexes and triggers are recreated as migrations 0001-0003 left them.

CREATE TABLE message_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    folder_id       INTEGER NOT NULL REFERENCES folder (id) ON DELETE CASCADE,
    uid             INTEGER,                                  -- IMAP; NULL for POP3
    uidl            TEXT,                                     -- POP3; NULL for IMAP
    modseq          INTEGER,
    message_id      TEXT,                                     -- without angle brackets
    in_reply_to     TEXT,
    refs            TEXT    NOT NULL DEFAULT '',              -- References ids, space separated
    thread_id       INTEGER REFERENCES thread (id) ON DELETE SET NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    from_name       TEXT    NOT NULL DEFAULT '',
    from_addr       TEXT    NOT NULL DEFAULT '',
    to_addrs        TEXT    NOT NULL DEFAULT '',              -- "Name <a@b>, c@d"
    cc_addrs        TEXT    NOT NULL DEFAULT '',
    date            INTEGER NOT NULL,                         -- Date: header, else INTERNALDATE
    internal_date   INTEGER,
    size            INTEGER NOT NULL DEFAULT 0,
    flags           INTEGER NOT NULL DEFAULT 0,               -- bitset, see store::message::flag
    keywords        TEXT    NOT NULL DEFAULT '',              -- space separated IMAP keywords
    has_attachments INTEGER NOT NULL DEFAULT 0 CHECK (has_attachments IN (0, 1)),
    preview         TEXT    NOT NULL DEFAULT '',
    body_state      INTEGER NOT NULL DEFAULT 0 CHECK (body_state IN (0, 1, 2)), -- none, partial, full
    structure       TEXT,                                     -- MIME structure as JSON (IMAP BODYSTRUCTURE)
    sort_from       TEXT    NOT NULL DEFAULT '',              -- lower-cased sender for sorting
    sort_subject    TEXT    NOT NULL DEFAULT ''               -- subject without Re:/Fwd:, lower-cased
) STRICT;

INSERT INTO message_new SELECT * FROM message;
DROP TABLE message;
ALTER TABLE message_new RENAME TO message;

CREATE UNIQUE INDEX message_folder_uid ON message (folder_id, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX message_folder_uidl ON message (folder_id, uidl) WHERE uidl IS NOT NULL;
CREATE INDEX message_folder_date ON message (folder_id, date);
CREATE INDEX message_folder_from ON message (folder_id, sort_from, date);
CREATE INDEX message_folder_subject ON message (folder_id, sort_subject, date);
CREATE INDEX message_thread ON message (thread_id, date) WHERE thread_id IS NOT NULL;
CREATE INDEX message_folder_unread ON message (folder_id, date) WHERE (flags & 1) = 0;
CREATE INDEX message_message_id ON message (message_id) WHERE message_id IS NOT NULL;
CREATE TRIGGER message_count_insert AFTER INSERT ON message BEGIN
    UPDATE folder SET total = total + 1, unread = unread + ((NEW.flags & 1) = 0)
    WHERE id = NEW.folder_id;
END;
CREATE TRIGGER message_count_delete AFTER DELETE ON message BEGIN
    UPDATE folder SET total = total - 1, unread = unread - ((OLD.flags & 1) = 0)
    WHERE id = OLD.folder_id;
END;
CREATE TRIGGER message_count_update AFTER UPDATE OF flags, folder_id ON message BEGIN
    UPDATE folder SET total = total - 1, unread = unread - ((OLD.flags & 1) = 0)
    WHERE id = OLD.folder_id;
    UPDATE folder SET total = total + 1, unread = unread + ((NEW.flags & 1) = 0)
    WHERE id = NEW.folder_id;
END;
CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
    INSERT INTO message_fts (rowid, subject, sender, recipients, body)
    VALUES (NEW.id, NEW.subject, NEW.from_name || ' ' || NEW.from_addr,
            NEW.to_addrs || ' ' || NEW.cc_addrs, '');
END;
CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
    DELETE FROM message_fts WHERE rowid = OLD.id;
END;
CREATE TRIGGER contact_from_message AFTER INSERT ON message WHEN NEW.from_addr <> '' BEGIN
    INSERT INTO contact (address, name, uses, last_used)
    VALUES (lower(NEW.from_addr), NEW.from_name, 1, NEW.date)
    ON CONFLICT (address) DO UPDATE SET
        uses = uses + 1,
        last_used = max(last_used, excluded.last_used),
        name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END;
END;
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
CREATE TRIGGER folder_thread_seen AFTER UPDATE OF flags ON message
WHEN (OLD.flags & 1) <> (NEW.flags & 1) AND OLD.folder_id IS NEW.folder_id
     AND OLD.thread_id IS NEW.thread_id AND OLD.date IS NEW.date
BEGIN
    UPDATE folder_thread SET unread = unread + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0)
    WHERE folder_id = NEW.folder_id AND thread = coalesce(NEW.thread_id, -NEW.id);
END;
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
