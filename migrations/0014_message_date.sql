-- 0014_message_date: every message by date, for a search whose words are common. Such a search
-- walks the messages newest first and keeps those in the match set, and stops at the page's
-- end, instead of sorting every match by date (230 ms for 125,000 matches of 1,000,000).
CREATE INDEX message_date ON message (date);
