-- 0009_pop3_doubtful: a message whose answer was followed by something that is not POP3 (the
-- server broke its framing, e.g. did not dot-stuff a line holding a lone dot), so what Tern
-- stored of it may be cut short. It is never deleted from the server.
ALTER TABLE pop3_uidl ADD COLUMN doubtful INTEGER NOT NULL DEFAULT 0 CHECK (doubtful IN (0, 1));
