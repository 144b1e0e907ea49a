#include <sqlite3.h>

#include "CSQLiteSettings.h"

int token_authority_sqlite_defensive(struct sqlite3 *db, int on) {
    int before = 0;
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &before) != SQLITE_OK) return -1;
    if (on >= 0 && sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, on, (int *)0) != SQLITE_OK) return -1;
    return before;
}
