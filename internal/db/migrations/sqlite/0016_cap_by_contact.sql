-- The frequency cap reads a contact's messages by messages_contact, whose
-- range for one contact is a handful of rows, and keeps only the marketing
-- ones. Its own index by contact and time was one more b-tree entry to
-- write for every marketing message made and every send recorded.
DROP INDEX messages_marketing_contact;
