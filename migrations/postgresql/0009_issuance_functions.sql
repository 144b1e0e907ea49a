-- The two statements that make an issuance short under its key's lock (docs/storage.md,
-- "PostgreSQL", "Round trips under a key's lock").
--
-- lock_token_key, an issuance's first statement: takes the key's transaction lock, then reads
-- the key's ACTIVE token with its refresh token, in one round trip where it took two. The writers of one key queue behind that lock, so every round trip it is held for
-- bounds how often one key can be renewed.
--
-- The read must come after the wait for the lock, which one SELECT holding both cannot do: a
-- statement reads with the snapshot taken when it began. A VOLATILE function takes a fresh
-- snapshot for each statement it runs (PostgreSQL, "Function Volatility Categories"), so this
-- one reads what the key's previous writer committed while it waited.
--
-- lock_text is the key as the server joins it for the lock (client, subject type, subject,
-- scope), so that this lock and the server's own pg_advisory_xact_lock on a key are one lock.
CREATE FUNCTION lock_token_key(lock_class integer, lock_text text, key_client_id text,
        key_subject_type text, key_subject text, key_scope text)
    RETURNS TABLE (access_id bigint, access_sealed bytea, access_issued_at bigint,
        access_expires_at bigint, refresh_id bigint, refresh_sealed bytea, refresh_issued_at bigint,
        refresh_expires_at bigint, refresh_family_id bigint)
    LANGUAGE plpgsql VOLATILE AS $lock_token_key$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(lock_text));
    RETURN QUERY
        SELECT a.id, a.token_sealed, a.issued_at, a.expires_at,
               r.id, r.token_sealed, r.issued_at, r.expires_at, r.family_id
        FROM access_tokens a LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
        WHERE a.client_id = key_client_id AND a.subject_type = key_subject_type
          AND a.subject = key_subject AND a.scope = key_scope AND a.state = 'ACTIVE';
END
$lock_token_key$;

-- An issuance's writes (docs/token-renewal.md), in one statement: the key's ACTIVE token, if
-- any, leaves ACTIVE as `retiring`; with a new refresh token, the retired token's refresh token
-- leaves ACTIVE as `refresh_retiring` (when that is not NULL) and the new one is inserted;
-- otherwise the new access token carries `carried_refresh_id` (a refresh token carried over, or
-- none). Commits with synchronous_commit off (docs/storage.md, "PostgreSQL"). It takes the
-- key's lock itself, so that alone, outside any transaction, it is a whole renewal in one round
-- trip with the lock held for no round trip at all: what `renew_access_token_per_request` and
-- JWT issuance do on every request, whatever the ACTIVE token is. Inside a transaction that
-- already holds the lock (after lock_token_key and a decision), taking it again changes nothing.
CREATE FUNCTION issue_token(lock_class integer, lock_text text, key_client_id text,
        key_subject_type text, key_subject text, key_scope text, retiring text, refresh_retiring text,
        carried_refresh_id bigint, carried_family_id bigint, new_access_sha256 bytea,
        new_access_sealed bytea, new_grant_type text, new_access_expires_at bigint,
        new_signing_key_id text, new_refresh_sha256 bytea, new_refresh_sealed bytea,
        new_refresh_expires_at bigint, new_family_id bigint, new_auth_time bigint,
        new_issued_at bigint)
    RETURNS TABLE (access_id bigint, refresh_id bigint, retired boolean)
    LANGUAGE plpgsql VOLATILE AS $issue_token$
DECLARE
    retired_refresh_id bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_advisory_xact_lock(lock_class, hashtext(lock_text));
    UPDATE access_tokens SET state = retiring, state_changed_at = new_issued_at
    WHERE client_id = key_client_id AND subject_type = key_subject_type AND subject = key_subject
      AND scope = key_scope AND state = 'ACTIVE'
    RETURNING refresh_token_id INTO retired_refresh_id;
    retired := FOUND;
    refresh_id := carried_refresh_id;
    IF new_refresh_sha256 IS NOT NULL THEN
        IF refresh_retiring IS NOT NULL THEN
            UPDATE refresh_tokens SET state = refresh_retiring, state_changed_at = new_issued_at
            WHERE id = retired_refresh_id AND state = 'ACTIVE';
        END IF;
        INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
            state, issued_at, expires_at, family_id, auth_time, state_changed_at)
        VALUES (new_refresh_sha256, new_refresh_sealed, key_client_id, key_subject_type, key_subject,
            key_scope, 'ACTIVE', new_issued_at, new_refresh_expires_at, new_family_id, new_auth_time,
            new_issued_at)
        RETURNING id INTO refresh_id;
    END IF;
    INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
        grant_type, issued_at, expires_at, refresh_token_id, family_id, signing_key_id, state_changed_at)
    VALUES (new_access_sha256, new_access_sealed, key_client_id, key_subject_type, key_subject, key_scope,
        'ACTIVE', new_grant_type, new_issued_at, new_access_expires_at, refresh_id,
        CASE WHEN new_refresh_sha256 IS NOT NULL THEN new_family_id ELSE carried_family_id END,
        new_signing_key_id, new_issued_at)
    RETURNING id INTO access_id;
    RETURN NEXT;
END
$issue_token$;
