-- The state joins refresh_token_id in the index: the same change as SQLite's
-- 0008_active_by_refresh_token.sql, for the same reason.
DROP INDEX access_tokens_by_refresh_token;

CREATE INDEX access_tokens_by_refresh_token ON access_tokens (refresh_token_id, state)
    WHERE refresh_token_id IS NOT NULL;
