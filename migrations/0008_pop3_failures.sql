-- 0008_pop3_failures: a message the POP3 server failed to send (its answer stalled, was cut,
-- or broke the size limit). The next pass asks for it last and with headers only, so one bad
-- message cannot stop every pass (and with it all later mail and all deletion); after that
-- fails too it is set aside for a day and named in the report. It is never deleted from the
-- server while it has no local copy. The row goes when the message is stored.
CREATE TABLE pop3_failure (
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    uidl            TEXT    NOT NULL,
    failures        INTEGER NOT NULL,
    last_failed_at  INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    PRIMARY KEY (account_id, uidl)
) STRICT, WITHOUT ROWID;
