-- 0007_pop3: the POP3 engine's state. The store is the authority for a POP3 account.
--
-- `pop3_uidl` (from 0001) has a row per UIDL ever downloaded, written in the same transaction
-- as the message itself; only after that commit may the message be marked for deletion on the
-- server, and only after QUIT succeeds is `removed_at` set. The new columns let a pass tell
-- new mail from old without reading any message: the LIST size and Message-ID and a SHA-256 of
-- the bytes RETR returned catch a server that lost its UIDL list (the same mail under new ids:
-- no second copy) or reused a UIDL for other mail (the new mail is kept as new).
ALTER TABLE pop3_uidl ADD COLUMN first_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pop3_uidl ADD COLUMN size INTEGER;              -- LIST size at download; NULL: not known
ALTER TABLE pop3_uidl ADD COLUMN message_id TEXT;           -- Message-ID, without angle brackets
ALTER TABLE pop3_uidl ADD COLUMN digest TEXT;               -- SHA-256 (hex) of what RETR returned
ALTER TABLE pop3_uidl ADD COLUMN partial INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)); -- only the headers (TOP) are here
ALTER TABLE pop3_uidl ADD COLUMN removed_at INTEGER;        -- when it left the server; NULL: still there
UPDATE pop3_uidl SET first_seen_at = downloaded_at;

-- The UIDL rows a pass compares with the server's list, and the duplicate checks.
CREATE INDEX pop3_uidl_on_server ON pop3_uidl (account_id) WHERE removed_at IS NULL;
CREATE INDEX pop3_uidl_digest ON pop3_uidl (account_id, digest) WHERE digest IS NOT NULL;
CREATE INDEX pop3_uidl_message_id ON pop3_uidl (account_id, message_id) WHERE message_id IS NOT NULL;
-- The local copy of a server message, wherever the user filed it.
CREATE INDEX message_account_uidl ON message (account_id, uidl) WHERE uidl IS NOT NULL;

-- Messages larger than this many bytes are downloaded as headers only (TOP), the rest when
-- opened. NULL: every message whole.
ALTER TABLE account ADD COLUMN pop3_max_message_size INTEGER;

-- POP3 accounts check for mail every 10 minutes unless the user chose otherwise (300 was the
-- schema's default, never offered for POP3).
UPDATE account SET poll_seconds = 600 WHERE protocol = 'pop3' AND poll_seconds = 300;

-- POP3 accounts keep their mail in local folders: Inbox, Sent, Drafts, Trash, Archive, Junk.
INSERT OR IGNORE INTO folder (account_id, path, server_path, delimiter, role)
    SELECT a.id, f.path, f.path, '/', f.role FROM account a,
        (SELECT 'INBOX' AS path, 'inbox' AS role UNION ALL SELECT 'Sent', 'sent'
         UNION ALL SELECT 'Drafts', 'drafts' UNION ALL SELECT 'Trash', 'trash'
         UNION ALL SELECT 'Archive', 'archive' UNION ALL SELECT 'Junk', 'junk') f
    WHERE a.protocol = 'pop3'
      AND NOT EXISTS (SELECT 1 FROM folder g WHERE g.account_id = a.id AND g.role = f.role);
