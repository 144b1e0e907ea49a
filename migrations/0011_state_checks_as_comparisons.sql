-- The token tables check their state with comparisons instead of an IN list. SQLite (3.40, the
-- version Debian 12 ships) checks `state IN ('ACTIVE', 'EXPIRED', 'REVOKED', 'INACTIVE')` by
-- building a temporary b-tree of the four values on every INSERT and UPDATE of a row: a few
-- microseconds each, and a renewal writes two token rows, a refresh two to four
-- (docs/performance.md, "What keeps it fast"). Written as comparisons, the same constraint costs a
-- few instructions.
--
-- A CHECK constraint is not part of the file format, and every row satisfies the new one, as it is
-- the same constraint. So the table definitions are edited in place, as SQLite documents for
-- changing a CHECK constraint (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of
-- Table Schema Changes"): no row is copied, however many tokens the database holds.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CHECK (state IN (''ACTIVE'', ''EXPIRED'', ''REVOKED'', ''INACTIVE''))',
    'CHECK (state = ''ACTIVE'' OR state = ''EXPIRED'' OR state = ''REVOKED'' OR state = ''INACTIVE'')')
WHERE type = 'table' AND name IN ('access_tokens', 'refresh_tokens');

-- This connection reads the edited definitions at once.
PRAGMA writable_schema = RESET;

-- Every other connection to the file, in this process or another, reads the schema again at its
-- next statement once the schema version moves, which editing sqlite_schema does not do, and
-- creating a table does.
CREATE TABLE schema_version_step (unused INTEGER);
DROP TABLE schema_version_step;
