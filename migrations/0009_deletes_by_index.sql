-- Deleting a user or a client reads only the rows that go with it, through indexes, instead
-- of whole tables while it holds the write lock (docs/storage.md, "Deleting users and
-- clients"). The same rows go as before.
--
-- The user's tokens: the key indexes lead with the client, and every token's client is a row
-- of `clients` (its foreign key sees to it), so `client_id IN (SELECT client_id FROM clients)`
-- lets SQLite look up (client, 'user', username) in access_tokens_by_key and
-- refresh_tokens_by_key once per client. 0001's trigger read both tables whole.
DROP TRIGGER users_delete_tokens;

CREATE TRIGGER users_delete_tokens AFTER DELETE ON users
BEGIN
    DELETE FROM access_tokens
    WHERE client_id IN (SELECT client_id FROM clients) AND subject_type = 'user' AND subject = OLD.username;
    DELETE FROM refresh_tokens
    WHERE client_id IN (SELECT client_id FROM clients) AND subject_type = 'user' AND subject = OLD.username;
END;

-- The rows that `ON DELETE CASCADE` finds by their user or client: without an index on the
-- referring column, SQLite reads the whole table to find them.
CREATE INDEX sessions_by_user ON sessions (username);
CREATE INDEX authorization_codes_by_user ON authorization_codes (username);
CREATE INDEX authorization_codes_by_client ON authorization_codes (client_id);
CREATE INDEX device_authorizations_by_user ON device_authorizations (username);
CREATE INDEX device_authorizations_by_client ON device_authorizations (client_id);
