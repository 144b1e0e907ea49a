-- When the user authenticated for the grant a refresh token descends from (OpenID Connect's
-- auth_time), so that the ID token the refresh grant returns carries the time of the original
-- authentication, not of the refresh (OpenID Connect Core 1.0, "Successful Refresh Response";
-- docs/browser-sign-in.md, "OpenID Connect"). A rotated refresh token inherits it. NULL for
-- tokens issued before this column: their refresh answers carry no ID token.
ALTER TABLE refresh_tokens ADD COLUMN auth_time INTEGER;

DROP VIEW refresh_tokens_view;
CREATE VIEW refresh_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state, family_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', issued_at / 1000.0, 'unixepoch') AS issued_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', expires_at / 1000.0, 'unixepoch') AS expires_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', state_changed_at / 1000.0, 'unixepoch') AS state_changed_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', auth_time / 1000.0, 'unixepoch') AS auth_time
FROM refresh_tokens;
