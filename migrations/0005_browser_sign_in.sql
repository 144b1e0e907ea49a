-- Browser sign-in (README, "Browser sign-in"; docs/browser-sign-in.md): the
-- authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636), sessions of the
-- login page shared by every process, and OpenID Connect's logout redirects.

-- A client's registered redirect URIs, space-separated (a URI holds no space,
-- RFC 3986): compared by exact string match (RFC 9700 §4.1.3). Empty: none.
ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
-- Where GET /oauth2/logout may send the browser back to, space-separated.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
-- 'none': a public client (a single-page or native app) that holds no secret
-- and must use PKCE; its secret_sha256 is the digest of a random secret nobody
-- was ever shown, and the token endpoint never checks a secret for it.
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'none'));

-- A signed-in browser. The cookie holds a 256-bit random value; only its
-- SHA-256 is stored, so a copy of the database cannot be replayed as a cookie.
-- ended_at is set by logout; a session also ends at expires_at.
CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    session_sha256 BLOB    NOT NULL UNIQUE CHECK (length(session_sha256) = 32),
    username       TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    -- when the user entered the password: OpenID Connect's auth_time
    auth_time      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL CHECK (expires_at > created_at),
    ended_at       INTEGER
);

-- An authorization code (RFC 6749 §4.1.2): 128-bit random, stored only as its
-- SHA-256, valid for 60 s and redeemed at most once. redeemed_at is set by the
-- one UPDATE that redeems it, so two simultaneous exchanges cannot both win; a
-- code presented again sets replayed_at and revokes the token family its
-- exchange handed out (family_id), whichever of the two is written last.
CREATE TABLE authorization_codes (
    id             INTEGER PRIMARY KEY,
    code_sha256    BLOB    NOT NULL UNIQUE CHECK (length(code_sha256) = 32),
    client_id      TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    username       TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    -- the redirect URI the code was sent to; the exchange must name the same one
    redirect_uri   TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    -- RFC 7636 S256 challenge (43 base64url characters); NULL when a confidential
    -- client sent none
    code_challenge TEXT    CHECK (code_challenge IS NULL OR length(code_challenge) = 43),
    -- OpenID Connect: echoed in the ID token
    nonce          TEXT,
    auth_time      INTEGER NOT NULL,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL CHECK (expires_at > issued_at),
    redeemed_at    INTEGER,
    replayed_at    INTEGER,
    family_id      INTEGER
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

DROP VIEW clients_view;
CREATE VIEW clients_view AS
SELECT client_id, name, grant_types, coalesce(scopes, '*') AS scopes, token_format, may_introspect,
       token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at
FROM clients;

CREATE VIEW sessions_view AS
SELECT id, username,
       strftime('%Y-%m-%dT%H:%M:%fZ', auth_time / 1000.0, 'unixepoch') AS auth_time,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', ended_at / 1000.0, 'unixepoch') AS ended_at
FROM sessions;

CREATE VIEW authorization_codes_view AS
SELECT id, client_id, username, redirect_uri, scope, code_challenge IS NOT NULL AS pkce,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', redeemed_at / 1000.0, 'unixepoch') AS redeemed_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', replayed_at / 1000.0, 'unixepoch') AS replayed_at,
       family_id
FROM authorization_codes;
