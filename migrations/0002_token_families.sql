-- Token families (RFC 9700 §4.14.2): every token descends from one original grant.
-- A refresh token presented after it was rotated away revokes every ACTIVE token
-- of its family, so a stolen refresh token cannot outlive its detection.
-- family_id is chosen at the original grant and inherited by every access and
-- refresh token issued from it. client_credentials tokens have no family (NULL).

ALTER TABLE refresh_tokens ADD COLUMN family_id INTEGER;
ALTER TABLE access_tokens ADD COLUMN family_id INTEGER;

-- Rows written before this migration: each refresh token starts its own family.
UPDATE refresh_tokens SET family_id = id WHERE family_id IS NULL;
UPDATE access_tokens
SET family_id = (SELECT r.family_id FROM refresh_tokens r WHERE r.id = access_tokens.refresh_token_id)
WHERE refresh_token_id IS NOT NULL;

CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX access_tokens_by_family ON access_tokens (family_id) WHERE family_id IS NOT NULL;

-- The readable views gain the family.
DROP VIEW access_tokens_view;
CREATE VIEW access_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state, grant_type,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       refresh_token_id, family_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', state_changed_at / 1000.0, 'unixepoch') AS state_changed_at
FROM access_tokens;

DROP VIEW refresh_tokens_view;
CREATE VIEW refresh_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state, family_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', state_changed_at / 1000.0, 'unixepoch') AS state_changed_at
FROM refresh_tokens;
