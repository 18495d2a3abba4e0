-- 0010_account_keyring_key: a random key per account naming its OS keyring entry
-- ("account-<key>"). Account ids are reused after the newest account is removed, and every data
-- directory counts from 1, so an entry named by the id alone could hand one account another's
-- password. Existing accounts get a key now; `add_account` gives each new one its own.
ALTER TABLE account ADD COLUMN keyring_key TEXT NOT NULL DEFAULT '';
UPDATE account SET keyring_key = lower(hex(randomblob(16)));
