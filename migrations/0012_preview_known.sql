-- 0012_preview_known: whether a message's preview line is settled. An IMAP server with PREVIEW
-- (RFC 8970) answers `PREVIEW (LAZY)` during the header sync from what it has ready and NIL for
-- the rest; the sync then asks for the missing ones in the background, newest first. A message
-- whose preview is known to be empty (an empty body, an attachment only) is marked here so it
-- is not asked again on every pass. A non-empty preview is settled by definition.
ALTER TABLE message ADD COLUMN preview_known INTEGER NOT NULL DEFAULT 0;
CREATE INDEX message_preview_pending ON message (folder_id, uid)
    WHERE preview = '' AND preview_known = 0 AND uid IS NOT NULL;
