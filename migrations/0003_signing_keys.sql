-- JWT access tokens (RFC 9068) for clients created with --token-type jwt.
-- The signing keys live here so that every server process sharing this file signs
-- with the same key, and `token-authority keys rotate` takes effect in one transaction.
-- The private key is stored only as AES-GCM ciphertext under the server key file
-- (0600), like the tokens; the public key is kept as the JWK that /oauth2/jwks publishes.
CREATE TABLE signing_keys (
    -- RFC 7638 thumbprint of the public key: the JWT header's kid
    kid                TEXT    PRIMARY KEY NOT NULL CHECK (length(kid) BETWEEN 1 AND 255),
    algorithm          TEXT    NOT NULL CHECK (algorithm = 'ES256'),
    private_key_sealed BLOB    NOT NULL,
    public_jwk         TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    -- NULL for the current signing key; set when a newer key replaces it
    retired_at         INTEGER,
    -- a retired key stays published until then (its last token's expiry, at the
    -- validity configured when it was retired), and while any unexpired token
    -- row still names it
    publish_until      INTEGER,
    CHECK ((retired_at IS NULL) = (publish_until IS NULL))
);

-- One current signing key, whatever the number of processes starting at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

-- A JWT access token's row: token_sha256 is the SHA-256 of 'jti:' || its jti (so it
-- can never equal an opaque token's digest), token_sealed is empty (the JWT itself is
-- not stored), and signing_key_id names the key that signed it. NULL for opaque tokens.
ALTER TABLE access_tokens ADD COLUMN signing_key_id TEXT REFERENCES signing_keys (kid);
CREATE INDEX access_tokens_by_signing_key ON access_tokens (signing_key_id, expires_at)
    WHERE signing_key_id IS NOT NULL;

DROP VIEW access_tokens_view;
CREATE VIEW access_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state, grant_type,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       refresh_token_id, family_id,
       CASE WHEN signing_key_id IS NULL THEN 'opaque' ELSE 'jwt' END AS token_format, signing_key_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', state_changed_at / 1000.0, 'unixepoch') AS state_changed_at
FROM access_tokens;

CREATE VIEW signing_keys_view AS
SELECT kid, algorithm, public_jwk,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', retired_at / 1000.0, 'unixepoch') AS retired_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', publish_until / 1000.0, 'unixepoch') AS publish_until
FROM signing_keys;
