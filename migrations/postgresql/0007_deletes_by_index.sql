-- Deleting a user or a client reads only the rows that go with it, through indexes: the same
-- change as SQLite's 0009_deletes_by_index.sql, for the same reason. The same rows go as before.
--
-- The user's tokens: every token's client is a row of `clients` (its foreign key sees to it),
-- and with the clients as an array the planner looks up (client, 'user', username) in
-- access_tokens_by_key and refresh_tokens_by_key instead of reading either index whole.
CREATE OR REPLACE FUNCTION users_delete_tokens() RETURNS trigger LANGUAGE plpgsql AS $function$
BEGIN
    DELETE FROM access_tokens
    WHERE client_id = ANY (ARRAY(SELECT client_id FROM clients)) AND subject_type = 'user' AND subject = OLD.username;
    DELETE FROM refresh_tokens
    WHERE client_id = ANY (ARRAY(SELECT client_id FROM clients)) AND subject_type = 'user' AND subject = OLD.username;
    RETURN OLD;
END;
$function$;

-- The rows that `ON DELETE CASCADE` finds by their user or client.
CREATE INDEX sessions_by_user ON sessions (username);
CREATE INDEX authorization_codes_by_user ON authorization_codes (username);
CREATE INDEX authorization_codes_by_client ON authorization_codes (client_id);
CREATE INDEX device_authorizations_by_user ON device_authorizations (username);
CREATE INDEX device_authorizations_by_client ON device_authorizations (client_id);
