-- The frequency cap reads a contact's messages by messages_contact and keeps
-- the marketing ones of its period. For most contacts that range is a
-- handful of rows; a contact with a long history is read whole, as the
-- index does not hold the send time. Its own index by contact and time was
-- one more b-tree entry to write for every marketing message made and
-- every send recorded.
DROP INDEX messages_marketing_contact;
