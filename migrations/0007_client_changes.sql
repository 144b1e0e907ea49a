-- A counter that every change to `clients` moves, in the same transaction: the server keeps
-- clients in memory and reads this one row, at most four times a second, to learn that
-- another process (`token-authority client delete`, a second instance) changed one
-- (README, "Performance").
CREATE TABLE client_changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);

INSERT INTO client_changes (id, version) VALUES (1, 0);

CREATE TRIGGER clients_inserted AFTER INSERT ON clients
BEGIN
    UPDATE client_changes SET version = version + 1;
END;

CREATE TRIGGER clients_updated AFTER UPDATE ON clients
BEGIN
    UPDATE client_changes SET version = version + 1;
END;

CREATE TRIGGER clients_deleted AFTER DELETE ON clients
BEGIN
    UPDATE client_changes SET version = version + 1;
END;
