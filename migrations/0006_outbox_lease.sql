-- 0006_outbox_lease: one process at a time sends an account's outbox and replays its queue.
--
-- The window's engine and `tern sync` may run on one data directory at once. A process sends
-- an account's outbox (purpose 'outbox') or replays its queued actions (purpose 'replay') only
-- while it holds that lease, taken, renewed and released in transactions. Every outbox state
-- change is a compare-and-set on the state it expects, and moving a row to `sending` also
-- checks the lease. So a message (or an upload) is never sent twice, and no process turns
-- another's in-flight message into `unknown`. A lease whose holder died is taken over once it
-- expires, or at once where Tern can tell that the process is gone.
CREATE TABLE account_lease (
    account_id  INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('outbox', 'replay')),
    holder      TEXT    NOT NULL,   -- unique to one flush or replay of one process
    pid         INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,   -- unix seconds
    PRIMARY KEY (account_id, purpose)
) STRICT;
