-- 0001_initial: accounts, folders, messages, bodies, offline queue, outbox, drafts, POP3 state, search.
--
-- Conventions (see ARCHITECTURE.md, "Store"):
-- * Every table is STRICT; columns are NOT NULL with a DEFAULT unless NULL means something.
-- * Times are Unix seconds (UTC) in INTEGER columns.
-- * A column never changes meaning; a later migration adds a column instead.
-- * No password is ever stored here: accounts name a password command or rely on the OS keyring.

CREATE TABLE account (
    id                      INTEGER PRIMARY KEY,
    name                    TEXT    NOT NULL UNIQUE,          -- what `--account N` refers to
    display_name            TEXT    NOT NULL DEFAULT '',      -- shown in From:
    email                   TEXT    NOT NULL,
    protocol                TEXT    NOT NULL CHECK (protocol IN ('imap', 'pop3')),
    incoming_host           TEXT    NOT NULL,
    incoming_port           INTEGER NOT NULL CHECK (incoming_port BETWEEN 1 AND 65535),
    incoming_security       TEXT    NOT NULL CHECK (incoming_security IN ('tls', 'starttls', 'plain')),
    outgoing_host           TEXT    NOT NULL,
    outgoing_port           INTEGER NOT NULL CHECK (outgoing_port BETWEEN 1 AND 65535),
    outgoing_security       TEXT    NOT NULL CHECK (outgoing_security IN ('tls', 'starttls', 'plain')),
    login                   TEXT    NOT NULL,                 -- user name for IMAP/POP3/SMTP
    password_cmd            TEXT,                             -- NULL: use the OS keyring
    ca_file                 TEXT,                             -- extra trusted CA/certificate (PEM)
    cert_sha256             TEXT,                             -- pinned server certificate, hex
    signature               TEXT    NOT NULL DEFAULT '',
    sync_days               INTEGER,                          -- NULL: sync all mail
    download_bodies         INTEGER NOT NULL DEFAULT 0 CHECK (download_bodies IN (0, 1)),
    download_days           INTEGER,                          -- NULL: all bodies when download_bodies
    poll_seconds            INTEGER NOT NULL DEFAULT 300,
    server_saves_sent       INTEGER NOT NULL DEFAULT 0 CHECK (server_saves_sent IN (0, 1)),
    pop3_leave_on_server    INTEGER NOT NULL DEFAULT 1 CHECK (pop3_leave_on_server IN (0, 1)),
    pop3_delete_after_days  INTEGER,                          -- NULL: never by age
    pop3_delete_when_deleted INTEGER NOT NULL DEFAULT 0 CHECK (pop3_delete_when_deleted IN (0, 1)),
    created_at              INTEGER NOT NULL
) STRICT;

-- One row per mailbox. For POP3 accounts the folders are local (the store is the authority).
CREATE TABLE folder (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    path            TEXT    NOT NULL,                         -- decoded UTF-8 full path
    server_path     TEXT    NOT NULL DEFAULT '',              -- as the server spells it (modified UTF-7)
    delimiter       TEXT,                                     -- NULL: flat namespace
    role            TEXT CHECK (role IN ('inbox', 'sent', 'drafts', 'trash', 'junk', 'archive')),
    attributes      INTEGER NOT NULL DEFAULT 0,               -- bitset, see store::folder::attr
    subscribed      INTEGER NOT NULL DEFAULT 1 CHECK (subscribed IN (0, 1)),
    uidvalidity     INTEGER,
    uidnext         INTEGER,
    highestmodseq   INTEGER,
    total           INTEGER NOT NULL DEFAULT 0,               -- maintained by triggers below
    unread          INTEGER NOT NULL DEFAULT 0,               -- maintained by triggers below
    server_total    INTEGER,                                  -- from STATUS, when it differs from the cache
    server_unread   INTEGER,
    synced_at       INTEGER,
    backfill_uid    INTEGER,                                  -- lowest UID fetched so far (headers backfill)
    UNIQUE (account_id, path)
) STRICT;

-- Conversation threads. `root` is the Message-ID at the top of the References chain (or the
-- message's own id), so replies that arrive before their parent still join the same thread.
CREATE TABLE thread (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    root        TEXT    NOT NULL,
    UNIQUE (account_id, root)
) STRICT;

-- One row per message copy in a folder. `id` is the stable message id the CLI and UI use.
CREATE TABLE message (
    id              INTEGER PRIMARY KEY,
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

CREATE UNIQUE INDEX message_folder_uid ON message (folder_id, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX message_folder_uidl ON message (folder_id, uidl) WHERE uidl IS NOT NULL;
-- A folder newest first (rowid breaks ties, so keyset paging on (date, id) is exact).
CREATE INDEX message_folder_date ON message (folder_id, date);
-- Sort by sender or subject.
CREATE INDEX message_folder_from ON message (folder_id, sort_from, date);
CREATE INDEX message_folder_subject ON message (folder_id, sort_subject, date);
-- A thread's messages, oldest first.
CREATE INDEX message_thread ON message (thread_id, date) WHERE thread_id IS NOT NULL;
-- Unread messages of a folder (flag bit 1 = \Seen).
CREATE INDEX message_folder_unread ON message (folder_id, date) WHERE (flags & 1) = 0;
-- Threading and duplicate detection by Message-ID.
CREATE INDEX message_message_id ON message (message_id) WHERE message_id IS NOT NULL;

-- Folder counts follow the cache in the same transaction as the change.
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

-- Bodies: the whole RFC 5322 message when known, else the MIME parts fetched so far.
CREATE TABLE body (
    message_id  INTEGER PRIMARY KEY REFERENCES message (id) ON DELETE CASCADE,
    raw         BLOB    NOT NULL
) STRICT;

CREATE TABLE body_part (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    section     TEXT    NOT NULL,                             -- IMAP section, e.g. '1.2'
    data        BLOB    NOT NULL,                             -- bytes as the server sent them
    complete    INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)),
    UNIQUE (message_id, section)
) STRICT;

-- Offline actions, replayed in id order. A row is the user's intent; the engine makes the
-- server agree and then deletes the row, in one transaction with the cache update.
CREATE TABLE pending_op (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('flags', 'move', 'copy', 'delete', 'expunge',
                                                 'append', 'create_folder', 'rename_folder',
                                                 'delete_folder', 'subscribe', 'unsubscribe')),
    folder_id   INTEGER REFERENCES folder (id) ON DELETE SET NULL,
    message_id  INTEGER REFERENCES message (id) ON DELETE SET NULL,
    uidvalidity INTEGER,                                      -- the UIDVALIDITY `uid` belongs to
    uid         INTEGER,
    args        TEXT    NOT NULL DEFAULT '{}',                -- JSON, per kind
    state       TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'failed')),
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_op_account ON pending_op (account_id, state, id);

-- Outgoing mail. `raw` is exactly what is transmitted (never a Bcc header); the envelope is apart.
-- States: queued -> sending -> sent (250 received, Sent copy pending) -> done.
-- A crash in 'sending' becomes 'unknown': the user decides whether to resend.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    raw                 BLOB    NOT NULL,
    mail_from           TEXT    NOT NULL,
    rcpt_to             TEXT    NOT NULL,                     -- JSON array of addresses
    subject             TEXT    NOT NULL DEFAULT '',
    state               TEXT    NOT NULL DEFAULT 'queued'
                            CHECK (state IN ('queued', 'sending', 'sent', 'done', 'unknown', 'failed')),
    error               TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL DEFAULT 0,
    in_reply_to_message INTEGER REFERENCES message (id) ON DELETE SET NULL,  -- gets \Answered
    forwarded_message   INTEGER REFERENCES message (id) ON DELETE SET NULL,  -- gets $Forwarded
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER
) STRICT;
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);

-- Drafts being written. `server_message` is the copy in the Drafts folder, replaced on save.
CREATE TABLE draft (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    fields          TEXT    NOT NULL DEFAULT '{}',            -- JSON: to, cc, bcc, subject, body, attachments
    raw             BLOB,
    server_message  INTEGER REFERENCES message (id) ON DELETE SET NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- POP3: every UIDL ever downloaded, so a message deleted here is not downloaded again.
CREATE TABLE pop3_uidl (
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    uidl            TEXT    NOT NULL,
    downloaded_at   INTEGER NOT NULL,
    deleted_here    INTEGER NOT NULL DEFAULT 0 CHECK (deleted_here IN (0, 1)),
    PRIMARY KEY (account_id, uidl)
) STRICT, WITHOUT ROWID;

-- Full-text search. Contentless: rowid = message.id, text lives in message/body.
CREATE VIRTUAL TABLE message_fts USING fts5 (
    subject, sender, recipients, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
    INSERT INTO message_fts (rowid, subject, sender, recipients, body)
    VALUES (NEW.id, NEW.subject, NEW.from_name || ' ' || NEW.from_addr,
            NEW.to_addrs || ' ' || NEW.cc_addrs, '');
END;
CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
    DELETE FROM message_fts WHERE rowid = OLD.id;
END;
