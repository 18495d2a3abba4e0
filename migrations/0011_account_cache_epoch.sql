-- 0011_account_cache_epoch: counts the times an account's cache was started over (a change
-- to another mailbox). An engine that loaded the account before a reset still talks to the old
-- server; what it stores afterwards would pass for the new server's mail, so the POP3 store
-- refuses a write whose epoch is not the account's.
ALTER TABLE account ADD COLUMN cache_epoch INTEGER NOT NULL DEFAULT 0;
