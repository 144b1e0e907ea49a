import GRDB
import TokenAuthority

extension SQLiteStore {
    func user(named username: String) async throws -> User? {
        try await lookup { db in
            // As for clients: a name that goes on past a NUL is another name.
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM users WHERE username = ?"), arguments: [username])
                .map(Self.user).flatMap { $0.username.sameBytes(as: username) ? $0 : nil }
        }
    }

    func createUser(_ user: User) async throws {
        do {
            try await write { db in
                try db.execute(
                    sql: "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)",
                    arguments: [user.username, user.passwordHash, user.createdAt])
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw StoreError.alreadyExists("user \(user.username)")
        }
    }

    func updatePasswordHash(username: String, passwordHash: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE users SET password_hash = ? WHERE username = ?", arguments: [passwordHash, username])
            return db.changesCount > 0
        }
    }

    func users() async throws -> [User] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY username").map(Self.user)
        }
    }

    func deleteUser(named username: String) async throws -> Bool {
        // The trigger users_delete_tokens deletes their tokens in the same statement.
        try await write { db in
            try db.execute(sql: "DELETE FROM users WHERE username = ?", arguments: [username])
            return db.changesCount > 0
        }
    }

    func recordFailedLogin(username: String, threshold: Int, lockUntil: EpochMilliseconds) async throws -> Bool {
        // Counting and locking in one UPDATE: concurrent failures each add one,
        // and exactly one of them reaches the threshold.
        try await write { db in
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: """
                        UPDATE users SET
                            locked_until = CASE WHEN failed_login_attempts + 1 >= ?1 THEN ?2 ELSE locked_until END,
                            failed_login_attempts = CASE WHEN failed_login_attempts + 1 >= ?1 THEN 0
                                                         ELSE failed_login_attempts + 1 END
                        WHERE username = ?3
                        RETURNING locked_until IS ?2
                        """), arguments: [threshold, lockUntil, username]) ?? false
        }
    }

    func clearFailedLogins(username: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE users SET failed_login_attempts = 0, locked_until = NULL WHERE username = ?",
                arguments: [username])
            return db.changesCount > 0
        }
    }

    private static func user(_ row: Row) -> User {
        User(
            username: row["username"], passwordHash: row["password_hash"], createdAt: row["created_at"],
            failedLoginAttempts: row["failed_login_attempts"], lockedUntil: row["locked_until"])
    }
}
