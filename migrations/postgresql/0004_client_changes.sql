-- A counter that every change to `clients` moves, in the same transaction: the same table as
-- SQLite's 0007_client_changes.sql, moved by one statement-level trigger.
CREATE TABLE client_changes (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);

INSERT INTO client_changes (id, version) VALUES (1, 0);

CREATE FUNCTION client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE client_changes SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION client_changed();
