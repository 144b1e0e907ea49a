// What SQLite alone needs for a renewal: the statements the SQLite store runs
// for a client_credentials renewal (Sources/TokenStoreSQLite, SQLiteStore.issue:
// the ACTIVE token's SELECT, the UPDATE that retires it, the INSERT of the new
// one), prepared once and run from C in IMMEDIATE transactions of `batch`
// renewals, on a database made by `token-authority migrate`, with the server's
// settings (WAL, synchronous = NORMAL, foreign keys on). No HTTP, no Swift, no
// other thread: the floor under the server's write paths (docs/performance.md,
// "Where the write paths' time goes").
//
//   sqlite-floor DATABASE CLIENT_ID BATCH RENEWALS CHECKPOINT_EVERY ordered|random
//
// CHECKPOINT_EVERY = 0 leaves checkpoints out (the server runs them on a
// connection of its own); N > 0 runs a PASSIVE checkpoint after every N
// transactions on this connection, so that their cost is counted too.
// `ordered` writes lookup keys as the server does (6 bytes of time first,
// docs/storage.md, "Secrets at rest"); `random`, as a plain SHA-256 would.
// Prints "BATCH µs-per-renewal renewals-per-second".
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static sqlite3 *db;

static void check(int code, int expected, const char *what) {
    if (code == expected) return;
    fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *statement;
    check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL), SQLITE_OK, sql);
    return statement;
}

int main(int argc, char **argv) {
    if (argc != 7 || (strcmp(argv[6], "ordered") != 0 && strcmp(argv[6], "random") != 0)) {
        fprintf(stderr, "usage: sqlite-floor DATABASE CLIENT_ID BATCH RENEWALS CHECKPOINT_EVERY ordered|random\n");
        return 2;
    }
    int ordered = strcmp(argv[6], "ordered") == 0;
    const char *client = argv[2];
    int batch = atoi(argv[3]), renewals = atoi(argv[4]), checkpointEvery = atoi(argv[5]);
    if (batch < 1 || renewals < batch || checkpointEvery < 0) return 2;
    check(sqlite3_open(argv[1], &db), SQLITE_OK, "open");
    check(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                           "PRAGMA wal_autocheckpoint = 0",
                       NULL, NULL, NULL),
          SQLITE_OK, "settings");

    sqlite3_stmt *active = prepare(
        "SELECT a.id, a.token_sealed, a.issued_at, a.expires_at, r.id AS r_id, r.token_sealed AS r_sealed, "
        "r.issued_at AS r_issued_at, r.expires_at AS r_expires_at, r.family_id AS r_family_id "
        "FROM access_tokens a LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id "
        "WHERE a.client_id = ? AND a.subject_type = ? AND a.subject = ? AND a.scope = ? AND a.state = 'ACTIVE'");
    sqlite3_stmt *retire = prepare("UPDATE access_tokens SET state = ?, state_changed_at = ? WHERE id = ?");
    sqlite3_stmt *insert = prepare(
        "INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, "
        "state, grant_type, issued_at, expires_at, refresh_token_id, family_id, signing_key_id, state_changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");

    // The new token's lookup key and sealed form: random bytes of the lengths the
    // server stores for an opaque token (its nonce, ciphertext and tag: 64 bytes),
    // the key's first 6 bytes the time of issue when `ordered`.
    unsigned char digest[32], sealed[64];
    long long now = 1764000000000LL;
    double start = seconds();
    for (int done = 0, transactions = 0; done < renewals; done += batch) {
        check(sqlite3_step(begin), SQLITE_DONE, "BEGIN");
        sqlite3_reset(begin);
        for (int i = 0; i < batch; i++, now++) {
            sqlite3_bind_text(active, 1, client, -1, SQLITE_STATIC);
            sqlite3_bind_text(active, 2, "client", -1, SQLITE_STATIC);
            sqlite3_bind_text(active, 3, client, -1, SQLITE_STATIC);
            sqlite3_bind_text(active, 4, "bench", -1, SQLITE_STATIC);
            long long id = -1;
            if (sqlite3_step(active) == SQLITE_ROW) {
                id = sqlite3_column_int64(active, 0);
                (void)sqlite3_column_blob(active, 1);
            }
            sqlite3_reset(active);
            if (id >= 0) {
                sqlite3_bind_text(retire, 1, "INACTIVE", -1, SQLITE_STATIC);
                sqlite3_bind_int64(retire, 2, now);
                sqlite3_bind_int64(retire, 3, id);
                check(sqlite3_step(retire), SQLITE_DONE, "UPDATE");
                sqlite3_reset(retire);
            }
            if (getrandom(digest, sizeof digest, 0) != sizeof digest || getrandom(sealed, sizeof sealed, 0) != sizeof sealed)
                return 1;
            for (int byte = 0; ordered && byte < 6; byte++) digest[byte] = (unsigned char)(now >> (8 * (5 - byte)));
            sqlite3_bind_blob(insert, 1, digest, sizeof digest, SQLITE_STATIC);
            sqlite3_bind_blob(insert, 2, sealed, sizeof sealed, SQLITE_STATIC);
            sqlite3_bind_text(insert, 3, client, -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 4, "client", -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 5, client, -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 6, "bench", -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 7, "client_credentials", -1, SQLITE_STATIC);
            sqlite3_bind_int64(insert, 8, now);
            sqlite3_bind_int64(insert, 9, now + 3600000);
            sqlite3_bind_null(insert, 10);
            sqlite3_bind_null(insert, 11);
            sqlite3_bind_null(insert, 12);
            sqlite3_bind_int64(insert, 13, now);
            check(sqlite3_step(insert), SQLITE_DONE, "INSERT");
            sqlite3_reset(insert);
        }
        check(sqlite3_step(commit), SQLITE_DONE, "COMMIT");
        sqlite3_reset(commit);
        if (checkpointEvery > 0 && ++transactions % checkpointEvery == 0)
            check(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL), SQLITE_OK, "checkpoint");
    }
    double elapsed = seconds() - start;
    printf("%d %.1f %.0f\n", batch, elapsed * 1e6 / renewals, renewals / elapsed);
    return sqlite3_close_v2(db) == SQLITE_OK ? 0 : 1;
}
