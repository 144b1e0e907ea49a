import PostgresNIO
import TokenAuthority

// The device authorization grant's rows (RFC 8628; docs/device-sign-in.md).
extension PostgresStore {
    func createDeviceAuthorization(_ authorization: NewDeviceAuthorization) async throws {
        do {
            try await transaction { connection, logger in
                try await connection.rows(
                    """
                    INSERT INTO device_authorizations (device_code_sha256, user_code_sha256, client_id, scope,
                                                       interval_seconds, issued_at, expires_at)
                    VALUES (\(bytes(authorization.deviceCodeDigest)), \(bytes(authorization.userCodeDigest)),
                            \(authorization.clientID), \(authorization.scope), \(authorization.intervalSeconds),
                            \(authorization.issuedAt), \(authorization.expiresAt))
                    """, logger: logger)
            }
        } catch where PostgresFailure.isUniqueViolation(error) {
            throw StoreError.alreadyExists("device authorization code")
        }
    }

    func pendingDeviceAuthorization(userCodeDigest: [UInt8], at now: EpochMilliseconds) async throws
        -> PendingDeviceAuthorization?
    {
        try await rows(
            """
            SELECT client_id, scope, expires_at FROM device_authorizations
            WHERE user_code_sha256 = \(bytes(userCodeDigest)) AND status = 'pending' AND expires_at > \(now)
            """
        ).first.map { row in
            let (clientID, scope, expiresAt) = try row.decode((String, String, Int64).self)
            return PendingDeviceAuthorization(clientID: clientID, scope: scope, expiresAt: expiresAt)
        }
    }

    func decideDeviceAuthorization(
        userCodeDigest: [UInt8], approvedBy username: String?, authTime: EpochMilliseconds?, at now: EpochMilliseconds
    ) async throws -> Bool {
        try await transaction { connection, logger in
            !(try await connection.rows(
                """
                UPDATE device_authorizations
                SET status = \(username == nil ? "denied" : "approved"), username = \(username), auth_time = \(authTime)
                WHERE user_code_sha256 = \(bytes(userCodeDigest)) AND status = 'pending' AND expires_at > \(now)
                RETURNING 1
                """, logger: logger)
            ).isEmpty
        }
    }

    func pollDeviceAuthorization(deviceCodeDigest: [UInt8], clientID: String, at now: EpochMilliseconds) async throws
        -> DevicePoll
    {
        try await transaction { connection, logger in
            // FOR UPDATE: of two simultaneous polls the second waits, then sees the first's redemption.
            guard
                let row = try await connection.rows(
                    """
                    SELECT id, client_id, status, username, scope, auth_time, interval_seconds, last_polled_at, expires_at
                    FROM device_authorizations WHERE device_code_sha256 = \(bytes(deviceCodeDigest)) FOR UPDATE
                    """, logger: logger
                ).first
            else { return .invalid }
            let (id, owner, status, username, scope, authTime, interval, lastPolledAt, expiresAt) = try row.decode(
                (Int64, String, String, String?, String, Int64?, Int, Int64?, Int64).self)
            guard owner.sameBytes(as: clientID), status != "redeemed" else { return .invalid }
            guard expiresAt > now else { return .expired }
            switch status {
            case "denied":
                return .denied
            case "approved":
                try await connection.rows(
                    "UPDATE device_authorizations SET status = 'redeemed' WHERE id = \(id)", logger: logger)
                return .approved(username: username ?? "", scope: scope, authTime: authTime)
            default:
                if let lastPolledAt, now - lastPolledAt < Int64(interval) * 1000 {
                    try await connection.rows(
                        """
                        UPDATE device_authorizations SET interval_seconds = \(interval + 5), last_polled_at = \(now)
                        WHERE id = \(id)
                        """, logger: logger)
                    return .slowDown(intervalSeconds: interval + 5)
                }
                try await connection.rows(
                    "UPDATE device_authorizations SET last_polled_at = \(now) WHERE id = \(id)", logger: logger)
                return .pending
            }
        }
    }

    func recordUserCodeFailure(source: String, windowStart: EpochMilliseconds) async throws -> (source: Int, total: Int) {
        try await transaction { connection, logger in
            let own = try await connection.rows(
                """
                INSERT INTO device_user_code_failures (window_start, source, failures) VALUES (\(windowStart), \(source), 1)
                ON CONFLICT (window_start, source) DO UPDATE SET failures = device_user_code_failures.failures + 1
                RETURNING failures
                """, logger: logger
            ).first?.decode(Int.self) ?? 0
            let total = try await connection.rows(
                "SELECT coalesce(sum(failures), 0)::bigint FROM device_user_code_failures WHERE window_start = \(windowStart)",
                logger: logger
            ).first?.decode(Int.self) ?? 0
            return (own, total)
        }
    }
}
