/* SQLite's per-connection settings that Swift cannot reach: sqlite3_db_config is variadic.
 * The header names sqlite3 only as an incomplete type, so that Swift sees no second copy of
 * <sqlite3.h> beside GRDB's. */
#ifndef TOKEN_AUTHORITY_C_SQLITE_SETTINGS_H
#define TOKEN_AUTHORITY_C_SQLITE_SETTINGS_H

struct sqlite3;

/* Turns SQLITE_DBCONFIG_DEFENSIVE on (1) or off (0) for the connection, or only reads it (-1).
 * Returns the setting as it was before, or -1 when SQLite refused. */
int token_authority_sqlite_defensive(struct sqlite3 *db, int on);

#endif
