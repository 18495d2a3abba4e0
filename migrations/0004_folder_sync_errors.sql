-- 0004_folder_sync_errors: a folder the server refuses carries the reason, and every cache is
-- listed in full once.
--
-- * `sync_error` is NULL when the last pass synced the folder, else why it could not (the
--   server's words), shown in the folder tree; the other folders sync on.
-- * Until this version, new mail was fetched from above the highest cached UID, so a UID that
--   Tern itself cached out of order (a move, an upload, a server search) could hide another
--   client's message below it for good. Clearing `backfill_uid` makes the next pass of every
--   folder compare the server's whole UID list with the cache once, which fetches any such
--   message; from then on new mail is decided by the UIDNEXT the server reported.
ALTER TABLE folder ADD COLUMN sync_error TEXT;
UPDATE folder SET backfill_uid = NULL;
