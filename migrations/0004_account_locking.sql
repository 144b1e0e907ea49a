-- Account locking (WSO2 Identity Server's [identity_mgt.account_locking], here
-- [security.account_locking]): failed password logins are counted per user; when
-- the count reaches allowed_failed_attempts the account is locked until
-- locked_until (epoch milliseconds) and the count starts again from zero.
-- One UPDATE counts and locks, so concurrent failures are never lost.

ALTER TABLE users ADD COLUMN failed_login_attempts INTEGER NOT NULL DEFAULT 0
    CHECK (failed_login_attempts >= 0);
ALTER TABLE users ADD COLUMN locked_until INTEGER;

DROP VIEW users_view;
CREATE VIEW users_view AS
SELECT username, strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created_at,
       failed_login_attempts,
       strftime('%Y-%m-%dT%H:%M:%fZ', locked_until / 1000.0, 'unixepoch') AS locked_until
FROM users;
