-- When the user authenticated for the grant a refresh token descends from (OpenID Connect's
-- auth_time), so that the ID token the refresh grant returns carries the time of the original
-- authentication, not of the refresh (OpenID Connect Core 1.0, "Successful Refresh Response";
-- docs/browser-sign-in.md, "OpenID Connect"). A rotated refresh token inherits it. NULL for
-- tokens issued before this column: their refresh answers carry no ID token.
ALTER TABLE refresh_tokens ADD COLUMN auth_time bigint;

CREATE OR REPLACE VIEW refresh_tokens_view AS
SELECT id, client_id, subject_type, subject, scope, state, family_id,
       epoch_ms_to_iso8601(issued_at) AS issued_at,
       epoch_ms_to_iso8601(expires_at) AS expires_at,
       epoch_ms_to_iso8601(state_changed_at) AS state_changed_at,
       epoch_ms_to_iso8601(auth_time) AS auth_time
FROM refresh_tokens;
