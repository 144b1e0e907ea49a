-- Whether the authorization request named its redirect_uri, or left it out because the client has
-- exactly one registered: the same change as SQLite's 0012_authorization_code_redirect_uri_named.sql,
-- for the same reason (RFC 6749 §4.1.3; docs/browser-sign-in.md, "The code and its exchange").
-- true for codes issued before this column, which nobody can tell apart.
ALTER TABLE authorization_codes ADD COLUMN redirect_uri_named boolean NOT NULL DEFAULT true;

DROP VIEW authorization_codes_view;
CREATE VIEW authorization_codes_view AS
SELECT id, client_id, username, redirect_uri, redirect_uri_named::integer AS redirect_uri_named, scope,
       (code_challenge IS NOT NULL)::integer AS pkce,
       epoch_ms_to_iso8601(issued_at) AS issued_at,
       epoch_ms_to_iso8601(expires_at) AS expires_at,
       epoch_ms_to_iso8601(redeemed_at) AS redeemed_at,
       epoch_ms_to_iso8601(replayed_at) AS replayed_at,
       family_id
FROM authorization_codes;
