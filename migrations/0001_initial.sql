-- token-authority schema, version 1.
-- Shipped migrations are never edited: a change is a new numbered file.
-- Times are INTEGER milliseconds since the Unix epoch; the *_view views show them as ISO-8601.
-- Token secrets are never stored in clear: token_sha256 is the lookup key and
-- token_sealed the AES-GCM ciphertext under the server key (SPEC §6).

-- Applied migrations, each with the SHA-256 of its file: start-up refuses to run
-- when an applied file has changed since.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL CHECK (length(checksum) = 64),
    applied_at INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id      TEXT    PRIMARY KEY NOT NULL CHECK (length(client_id) BETWEEN 1 AND 255),
    name           TEXT    NOT NULL,
    -- SHA-256 of the secret: secrets are 256-bit random, so a fast hash suffices.
    secret_sha256  BLOB    NOT NULL CHECK (length(secret_sha256) = 32),
    -- space-separated grant types, e.g. 'password client_credentials refresh_token'
    grant_types    TEXT    NOT NULL,
    -- space-separated scopes the client may be granted; NULL allows every scope
    scopes         TEXT,
    token_format   TEXT    NOT NULL DEFAULT 'opaque' CHECK (token_format IN ('opaque', 'jwt')),
    may_introspect INTEGER NOT NULL DEFAULT 0 CHECK (may_introspect IN (0, 1)),
    created_at     INTEGER NOT NULL
);

CREATE TABLE users (
    username      TEXT    PRIMARY KEY NOT NULL CHECK (length(username) BETWEEN 1 AND 255),
    -- '$scrypt$ln=..,r=..,p=..$salt$hash': the KDF's parameters travel with the hash
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
    id               INTEGER PRIMARY KEY,
    token_sha256     BLOB    NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    token_sealed     BLOB    NOT NULL,
    client_id        TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    subject_type     TEXT    NOT NULL CHECK (subject_type IN ('user', 'client')),
    subject          TEXT    NOT NULL,
    scope            TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('ACTIVE', 'EXPIRED', 'REVOKED', 'INACTIVE')),
    issued_at        INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL CHECK (expires_at > issued_at),
    state_changed_at INTEGER NOT NULL
);

CREATE INDEX refresh_tokens_by_key ON refresh_tokens (client_id, subject_type, subject, scope);

CREATE TABLE access_tokens (
    id               INTEGER PRIMARY KEY,
    token_sha256     BLOB    NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    token_sealed     BLOB    NOT NULL,
    client_id        TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    -- 'user' for the password grant, 'client' for client_credentials: part of the key,
    -- so a user named like a client never shares its tokens
    subject_type     TEXT    NOT NULL CHECK (subject_type IN ('user', 'client')),
    subject          TEXT    NOT NULL,
    -- canonical scope set: deduplicated, sorted, space-joined
    scope            TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('ACTIVE', 'EXPIRED', 'REVOKED', 'INACTIVE')),
    grant_type       TEXT    NOT NULL,
    issued_at        INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL CHECK (expires_at > issued_at),
    -- NULL for client_credentials; several rows share one refresh token when it is carried over
    refresh_token_id INTEGER REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    state_changed_at INTEGER NOT NULL,
    CHECK ((subject_type = 'user') = (refresh_token_id IS NOT NULL) OR state <> 'ACTIVE')
);

-- The invariant of SPEC §5: at most one ACTIVE token per (client, subject, scope set).
CREATE UNIQUE INDEX access_tokens_one_active_per_key
    ON access_tokens (client_id, subject_type, subject, scope) WHERE state = 'ACTIVE';
-- Lookups by client, user and scope whatever the state.
CREATE INDEX access_tokens_by_key ON access_tokens (client_id, subject_type, subject, scope);
-- Partial: client_credentials rows have no refresh token and need no entry.
CREATE INDEX access_tokens_by_refresh_token ON access_tokens (refresh_token_id) WHERE refresh_token_id IS NOT NULL;

-- Deleting a user deletes the tokens issued for them, whoever deletes the row.
CREATE TRIGGER users_delete_tokens AFTER DELETE ON users
BEGIN
    DELETE FROM access_tokens WHERE subject_type = 'user' AND subject = OLD.username;
    DELETE FROM refresh_tokens WHERE subject_type = 'user' AND subject = OLD.username;
END;

-- Readable views for `sqlite3` (no secrets, times as ISO-8601 UTC).
CREATE VIEW access_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state, grant_type,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       refresh_token_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', state_changed_at / 1000.0, 'unixepoch') AS state_changed_at
FROM access_tokens;

CREATE VIEW refresh_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', state_changed_at / 1000.0, 'unixepoch') AS state_changed_at
FROM refresh_tokens;

CREATE VIEW clients_view AS
SELECT client_id, name, grant_types, coalesce(scopes, '*') AS scopes, token_format, may_introspect,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at
FROM clients;

CREATE VIEW users_view AS
SELECT username, strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at
FROM users;

CREATE VIEW schema_migrations_view AS
SELECT version, name, checksum,
       strftime('%Y-%m-%dT%H:%M:%fZ', applied_at / 1000.0, 'unixepoch') AS applied_at
FROM schema_migrations;
