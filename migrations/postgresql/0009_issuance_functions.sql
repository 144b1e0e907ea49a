-- The statements that keep a key's lock short (docs/storage.md, "PostgreSQL", "Round trips under
-- a key's lock"). The writers of one key queue behind its transaction lock, so every round trip
-- to the database the lock is held for bounds how often one key can be written; these functions
-- do under the lock, in one round trip, what took several.
--
-- Each reads after it has waited for the lock, which one SELECT holding both cannot do: a
-- statement reads with the snapshot taken when it began. A VOLATILE function takes a fresh
-- snapshot for each statement it runs (PostgreSQL, "Function Volatility Categories"), so these
-- read what the key's previous writer committed while they waited.

-- The key's transaction lock: the two-integer form of the advisory locks, named by the hash of
-- the key's parts joined by the unit separator. Keys whose texts (or hashes) coincide share one
-- lock, which only queues their writers.
CREATE FUNCTION lock_token_key(lock_class integer, key_client_id text, key_subject_type text,
        key_subject text, key_scope text)
    RETURNS void LANGUAGE sql VOLATILE AS $lock_token_key$
    SELECT pg_advisory_xact_lock(lock_class,
        hashtext(concat_ws(chr(31), key_client_id, key_subject_type, key_subject, key_scope)));
$lock_token_key$;

-- The functions below are PL/pgSQL, whose plans a session keeps (an SQL function's are made
-- anew on every call before PostgreSQL 18). issue_token and rotate_refresh_token each write out
-- their INSERTs: a helper function per inserted row cost renewal about 8 % (2,110-2,286 against
-- 2,364-2,507 a second on one key, three alternating pairs of runs).

-- An issuance's first statement: the key's lock, then its ACTIVE token with its refresh token.
CREATE FUNCTION locked_active_token(lock_class integer, key_client_id text, key_subject_type text,
        key_subject text, key_scope text)
    RETURNS TABLE (access_id bigint, access_sealed bytea, access_issued_at bigint,
        access_expires_at bigint, refresh_id bigint, refresh_sealed bytea, refresh_issued_at bigint,
        refresh_expires_at bigint, refresh_family_id bigint)
    LANGUAGE plpgsql VOLATILE AS $locked_active_token$
BEGIN
    PERFORM lock_token_key(lock_class, key_client_id, key_subject_type, key_subject, key_scope);
    RETURN QUERY
        SELECT a.id, a.token_sealed, a.issued_at, a.expires_at,
               r.id, r.token_sealed, r.issued_at, r.expires_at, r.family_id
        FROM access_tokens a LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
        WHERE a.client_id = key_client_id AND a.subject_type = key_subject_type
          AND a.subject = key_subject AND a.scope = key_scope AND a.state = 'ACTIVE';
END
$locked_active_token$;

-- An issuance's writes (docs/token-renewal.md), in one statement: the key's ACTIVE token, if
-- any, leaves ACTIVE as `retiring`; with a new refresh token, the retired token's refresh token
-- leaves ACTIVE as `refresh_retiring` (when that is not NULL) and the new one is inserted;
-- otherwise the new access token carries `carried_refresh_id` (a refresh token carried over, or
-- none). Commits with synchronous_commit off (docs/storage.md, "PostgreSQL"). It takes the
-- key's lock itself, so that alone, outside any transaction, it is a whole renewal in one round
-- trip with the lock held for no round trip at all: what `renew_access_token_per_request` and
-- JWT issuance do on every request, whatever the ACTIVE token is. Inside a transaction that
-- already holds the lock (after locked_active_token and a decision), taking it again changes
-- nothing.
CREATE FUNCTION issue_token(lock_class integer, key_client_id text, key_subject_type text,
        key_subject text, key_scope text, retiring text, refresh_retiring text,
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
    PERFORM lock_token_key(lock_class, key_client_id, key_subject_type, key_subject, key_scope);
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

-- The refresh grant's first statement: the presented refresh token's key is locked, as issuance
-- locks it, then its row read FOR UPDATE, whatever its state. Of two simultaneous refreshes with
-- one token, the second reads the first's rotation and is a replay.
CREATE FUNCTION locked_refresh_token(lock_class integer, presented_sha256 bytea)
    RETURNS TABLE (id bigint, client_id text, subject_type text, subject text, scope text,
        state text, issued_at bigint, expires_at bigint, family_id bigint, token_sealed bytea,
        auth_time bigint)
    LANGUAGE plpgsql VOLATILE AS $locked_refresh_token$
DECLARE
    presented record;
BEGIN
    SELECT r.client_id, r.subject_type, r.subject, r.scope INTO presented
    FROM refresh_tokens r WHERE r.token_sha256 = presented_sha256;
    IF FOUND THEN
        PERFORM lock_token_key(lock_class, presented.client_id, presented.subject_type,
            presented.subject, presented.scope);
    END IF;
    RETURN QUERY
        SELECT r.id, r.client_id, r.subject_type, r.subject, r.scope, r.state, r.issued_at,
               r.expires_at, r.family_id, r.token_sealed, r.auth_time
        FROM refresh_tokens r WHERE r.token_sha256 = presented_sha256 FOR UPDATE;
END
$locked_refresh_token$;

-- The refresh grant's rotation (docs/token-renewal.md, "The refresh grant"), in one statement.
-- It takes the presented token's key's lock and the new key's (a narrowed scope is a key of its
-- own), in that order, as locked_refresh_token and issuance take them, and reads the presented
-- token FOR UPDATE: unless it is still ACTIVE, it changes nothing and returns no row. A rotation
-- is decided on the token's state and on fields that never change, and no token comes back to
-- ACTIVE, so a rotation decided on a read without any lock is applied here exactly when it would
-- have been decided under them. Then the access tokens issued with the presented refresh token
-- become INACTIVE; a pair still ACTIVE on the new key (a narrowed scope's own) is REVOKED; with a
-- new refresh token, the presented one becomes INACTIVE (presenting it again is a replay) and the
-- new one, of the same family and auth_time, is inserted; then the new access token. Commits with
-- synchronous_commit off, as issuance does; a replay's family revocation does not come here.
CREATE FUNCTION rotate_refresh_token(lock_class integer, presented_id bigint,
        presented_scope text, presented_family_id bigint, presented_auth_time bigint, key_client_id text,
        key_subject_type text, key_subject text, key_scope text, new_access_sha256 bytea,
        new_access_sealed bytea, new_grant_type text, new_access_issued_at bigint,
        new_access_expires_at bigint, new_signing_key_id text, new_refresh_sha256 bytea,
        new_refresh_sealed bytea, new_refresh_issued_at bigint, new_refresh_expires_at bigint,
        changed_at bigint)
    RETURNS TABLE (access_id bigint, refresh_id bigint)
    LANGUAGE plpgsql VOLATILE AS $rotate_refresh_token$
DECLARE
    presented_state text;
BEGIN
    PERFORM lock_token_key(lock_class, key_client_id, key_subject_type, key_subject, presented_scope);
    PERFORM lock_token_key(lock_class, key_client_id, key_subject_type, key_subject, key_scope);
    SELECT r.state INTO presented_state FROM refresh_tokens r WHERE r.id = presented_id FOR UPDATE;
    IF presented_state IS DISTINCT FROM 'ACTIVE' THEN
        RETURN;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE access_tokens SET state = 'INACTIVE', state_changed_at = changed_at
    WHERE refresh_token_id = presented_id AND state = 'ACTIVE';
    WITH others AS (
        UPDATE access_tokens SET state = 'REVOKED', state_changed_at = changed_at
        WHERE client_id = key_client_id AND subject_type = key_subject_type AND subject = key_subject
          AND scope = key_scope AND state = 'ACTIVE'
        RETURNING refresh_token_id
    )
    UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = changed_at
    WHERE id IN (SELECT o.refresh_token_id FROM others o) AND id <> presented_id AND state = 'ACTIVE';
    refresh_id := presented_id;
    IF new_refresh_sha256 IS NOT NULL THEN
        UPDATE refresh_tokens SET state = 'INACTIVE', state_changed_at = changed_at WHERE id = presented_id;
        INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
            state, issued_at, expires_at, family_id, auth_time, state_changed_at)
        VALUES (new_refresh_sha256, new_refresh_sealed, key_client_id, key_subject_type, key_subject,
            key_scope, 'ACTIVE', new_refresh_issued_at, new_refresh_expires_at, presented_family_id,
            presented_auth_time, changed_at)
        RETURNING id INTO refresh_id;
    END IF;
    INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
        grant_type, issued_at, expires_at, refresh_token_id, family_id, signing_key_id, state_changed_at)
    VALUES (new_access_sha256, new_access_sealed, key_client_id, key_subject_type, key_subject, key_scope,
        'ACTIVE', new_grant_type, new_access_issued_at, new_access_expires_at, refresh_id,
        presented_family_id, new_signing_key_id, changed_at)
    RETURNING id INTO access_id;
    RETURN NEXT;
END
$rotate_refresh_token$;
