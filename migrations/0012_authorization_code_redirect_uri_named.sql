-- Whether the authorization request named its redirect_uri, or left it out because the client has
-- exactly one registered. RFC 6749 §4.1.3: the exchange must name the same redirect_uri when the
-- authorization request named one, and may leave it out only when that request did
-- (docs/browser-sign-in.md, "The code and its exchange"). 1 for codes issued before this column,
-- which nobody can tell apart: an exchange of one of them names its redirect_uri, as before it
-- had to whenever the client had several.
ALTER TABLE authorization_codes
    ADD COLUMN redirect_uri_named INTEGER NOT NULL DEFAULT 1 CHECK (redirect_uri_named IN (0, 1));

DROP VIEW authorization_codes_view;
CREATE VIEW authorization_codes_view AS
SELECT id, client_id, username, redirect_uri, redirect_uri_named, scope, code_challenge IS NOT NULL AS pkce,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', redeemed_at / 1000.0, 'unixepoch') AS redeemed_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', replayed_at / 1000.0, 'unixepoch') AS replayed_at,
       family_id
FROM authorization_codes;
