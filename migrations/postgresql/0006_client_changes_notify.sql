-- Every move of the client version is also announced on the channel `client_changes`
-- (NOTIFY, delivered when the transaction commits), so that every instance listening drops
-- its copies of the clients at once instead of at its next read of the version
-- (docs/storage.md, "Clients in memory"). PostgreSQL only: SQLite has no such channel.
CREATE FUNCTION client_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('client_changes', NEW.version::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER client_changes_notify AFTER UPDATE ON client_changes
    FOR EACH ROW EXECUTE FUNCTION client_changes_notify();
