-- When the carrier last began refusing the account's credentials (a 401,
-- Twilio's 20003): the admin shows it until a send succeeds or the
-- operator sets new credentials.
ALTER TABLE accounts ADD COLUMN carrier_refused_at TIMESTAMP;
