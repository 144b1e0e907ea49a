-- The device authorization grant (RFC 8628; docs/device-sign-in.md): a device asks for a
-- code, the user approves it at /device on another screen, and the device polls the token
-- endpoint until then.

-- One device's request. Both codes are stored only as their SHA-256: the device code
-- (256 bits) is the device's credential, the user code (8 letters, about 34 bits) is
-- typed by the user and guarded by the failure counts below.
CREATE TABLE device_authorizations (
    id                 INTEGER PRIMARY KEY,
    device_code_sha256 BLOB    NOT NULL UNIQUE CHECK (length(device_code_sha256) = 32),
    user_code_sha256   BLOB    NOT NULL UNIQUE CHECK (length(user_code_sha256) = 32),
    client_id          TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope              TEXT    NOT NULL,
    -- pending until the user decides; approved until the device's poll redeems it
    status             TEXT    NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    -- who approved, and when they entered their password (OpenID Connect's auth_time)
    username           TEXT    REFERENCES users (username) ON DELETE CASCADE,
    auth_time          INTEGER,
    -- the polling interval in seconds; slow_down adds 5 (RFC 8628 §3.5)
    interval_seconds   INTEGER NOT NULL CHECK (interval_seconds > 0),
    last_polled_at     INTEGER,
    issued_at          INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL CHECK (expires_at > issued_at),
    CHECK ((status IN ('approved', 'redeemed')) = (username IS NOT NULL))
);

CREATE INDEX device_authorizations_by_expiry ON device_authorizations (expires_at);

-- Wrong user codes entered at /device, per source address and one-minute window, counted in
-- the database so that every instance sees every attempt (RFC 8628 §5.1).
CREATE TABLE device_user_code_failures (
    window_start INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    failures     INTEGER NOT NULL CHECK (failures > 0),
    PRIMARY KEY (window_start, source)
);

CREATE VIEW device_authorizations_view AS
SELECT id, client_id, scope, status, username, interval_seconds,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', last_polled_at / 1000.0, 'unixepoch') AS last_polled_at
FROM device_authorizations;
