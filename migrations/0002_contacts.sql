-- Addresses seen in mail (senders) and written to (recipients), for completion in the composer.
-- Kept by a trigger on message and by the outbox insert, so completion is one indexed prefix
-- search however large the mailbox.
CREATE TABLE contact (
    address     TEXT    PRIMARY KEY,              -- lower-cased
    name        TEXT    NOT NULL DEFAULT '',
    uses        INTEGER NOT NULL DEFAULT 0,       -- messages from it, plus 5 per message sent to it
    last_used   INTEGER NOT NULL DEFAULT 0        -- unix seconds
) STRICT, WITHOUT ROWID;

CREATE INDEX contact_name ON contact (name COLLATE NOCASE);

INSERT INTO contact (address, name, uses, last_used)
    SELECT lower(from_addr), max(from_name), count(*), max(date)
    FROM message WHERE from_addr <> '' GROUP BY lower(from_addr);

CREATE TRIGGER contact_from_message AFTER INSERT ON message WHEN NEW.from_addr <> '' BEGIN
    INSERT INTO contact (address, name, uses, last_used)
    VALUES (lower(NEW.from_addr), NEW.from_name, 1, NEW.date)
    ON CONFLICT (address) DO UPDATE SET
        uses = uses + 1,
        last_used = max(last_used, excluded.last_used),
        name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END;
END;
