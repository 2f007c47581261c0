-- A conversation shows the notices sent to its contact's number, texts
-- that name no contact (the "Reply Y to confirm" sent before the person
-- was one). Read through messages_contact, that half of the query walked
-- every notice of the account to find the few to one number. This index
-- holds only notices, by number; other messages never write to it.
CREATE INDEX messages_notices ON messages (account_id, to_phone, id) WHERE contact_id IS NULL;
