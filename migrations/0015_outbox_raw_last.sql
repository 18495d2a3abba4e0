-- 0015_outbox_raw_last: the outbox keeps a message's bytes in its last column.
--
-- SQLite writes a large value without holding it in memory (a zeroblob, then incremental blob
-- I/O) only when the zeroblob is the row's last field; any other field must be expanded to
-- build the row, so queueing a 100 MB message held it twice more in SQLite. The table is
-- rebuilt with `raw` last (new table, copy, drop, rename), keeping every id; its index is
-- recreated. Columns added to `outbox` later must go into a rebuild like this one, not
-- ALTER TABLE ADD COLUMN, which would put them after `raw`.

CREATE TABLE outbox_new (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
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
    sent_at             INTEGER,
    raw                 BLOB    NOT NULL                      -- last: see above
) STRICT;

INSERT INTO outbox_new (id, account_id, mail_from, rcpt_to, subject, state, error, attempts,
                        next_attempt_at, in_reply_to_message, forwarded_message, created_at,
                        sent_at, raw)
    SELECT id, account_id, mail_from, rcpt_to, subject, state, error, attempts,
           next_attempt_at, in_reply_to_message, forwarded_message, created_at, sent_at, raw
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);
