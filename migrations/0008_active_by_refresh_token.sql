-- A refresh retires the ACTIVE access tokens issued with the presented refresh token. With
-- renew_refresh_token = false one refresh token is presented again and again and collects an
-- access token per refresh; an index on refresh_token_id alone made every refresh read all of
-- them. With the state in the index, it reads the one that is ACTIVE.
DROP INDEX access_tokens_by_refresh_token;

CREATE INDEX access_tokens_by_refresh_token ON access_tokens (refresh_token_id, state)
    WHERE refresh_token_id IS NOT NULL;
