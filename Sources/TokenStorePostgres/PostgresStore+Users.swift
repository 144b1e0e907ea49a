import PostgresNIO
import TokenAuthority

extension PostgresStore {
    func user(named username: String) async throws -> User? {
        try await rows(
            """
            SELECT username, password_hash, created_at, failed_login_attempts, locked_until
            FROM users WHERE username = \(username)
            """
        ).first.map(Self.user)
    }

    func createUser(_ user: User) async throws {
        do {
            try await rows(
                """
                INSERT INTO users (username, password_hash, created_at)
                VALUES (\(user.username), \(user.passwordHash), \(user.createdAt))
                """)
        } catch where PostgresFailure.isUniqueViolation(error) {
            throw StoreError.alreadyExists("user \(user.username)")
        }
    }

    func updatePasswordHash(username: String, passwordHash: String) async throws -> Bool {
        !(try await rows(
            "UPDATE users SET password_hash = \(passwordHash) WHERE username = \(username) RETURNING 1")).isEmpty
    }

    func users() async throws -> [User] {
        // COLLATE "C": byte order, as SQLite sorts text, whatever the database's locale.
        try await rows(
            """
            SELECT username, password_hash, created_at, failed_login_attempts, locked_until
            FROM users ORDER BY username COLLATE "C"
            """
        ).map(Self.user)
    }

    func deleteUser(named username: String) async throws -> Bool {
        // The trigger users_delete_tokens deletes their tokens in the same statement, durably.
        try await transaction { connection, logger in
            !(try await connection.rows("DELETE FROM users WHERE username = \(username) RETURNING 1", logger: logger))
                .isEmpty
        }
    }

    func recordFailedLogin(username: String, threshold: Int, lockUntil: EpochMilliseconds) async throws -> Bool {
        // Counting and locking in one UPDATE: concurrent failures queue on the row's
        // lock, each adds one to the count the one before it committed, and exactly
        // one of them reaches the threshold (README, "Abuse resistance").
        try await rows(
            """
            UPDATE users SET
                locked_until = CASE WHEN failed_login_attempts + 1 >= \(threshold) THEN \(lockUntil)
                                    ELSE locked_until END,
                failed_login_attempts = CASE WHEN failed_login_attempts + 1 >= \(threshold) THEN 0
                                             ELSE failed_login_attempts + 1 END
            WHERE username = \(username)
            RETURNING locked_until IS NOT DISTINCT FROM \(lockUntil)
            """
        ).first?.decode(Bool.self) ?? false
    }

    func clearFailedLogins(username: String) async throws -> Bool {
        !(try await rows(
            """
            UPDATE users SET failed_login_attempts = 0, locked_until = NULL WHERE username = \(username) RETURNING 1
            """)).isEmpty
    }

    private static func user(_ row: PostgresRow) throws -> User {
        let (username, passwordHash, createdAt, failedLoginAttempts, lockedUntil) = try row.decode(
            (String, String, Int64, Int, Int64?).self)
        return User(
            username: username, passwordHash: passwordHash, createdAt: createdAt,
            failedLoginAttempts: failedLoginAttempts, lockedUntil: lockedUntil)
    }
}
