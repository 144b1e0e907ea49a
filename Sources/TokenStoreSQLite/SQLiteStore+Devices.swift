import Foundation
import GRDB
import TokenAuthority

// The device authorization grant's rows (RFC 8628; docs/device-sign-in.md).
extension SQLiteStore {
    func createDeviceAuthorization(_ authorization: NewDeviceAuthorization) async throws {
        do {
            try await write { db in
                try db.execute(
                    sql: """
                        INSERT INTO device_authorizations (device_code_sha256, user_code_sha256, client_id, scope,
                                                           interval_seconds, issued_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Data(authorization.deviceCodeDigest), Data(authorization.userCodeDigest), authorization.clientID,
                        authorization.scope, authorization.intervalSeconds, authorization.issuedAt, authorization.expiresAt,
                    ])
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw StoreError.alreadyExists("device authorization code")
        }
    }

    func pendingDeviceAuthorization(userCodeDigest: [UInt8], at now: EpochMilliseconds) async throws
        -> PendingDeviceAuthorization?
    {
        try await lookup { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT client_id, scope, expires_at FROM device_authorizations
                        WHERE user_code_sha256 = ? AND status = 'pending' AND expires_at > ?
                        """),
                arguments: [Data(userCodeDigest), now]
            ).map { PendingDeviceAuthorization(clientID: $0["client_id"], scope: $0["scope"], expiresAt: $0["expires_at"]) }
        }
    }

    func decideDeviceAuthorization(
        userCodeDigest: [UInt8], approvedBy username: String?, authTime: EpochMilliseconds?, at now: EpochMilliseconds
    ) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(
                sql: """
                    UPDATE device_authorizations SET status = ?, username = ?, auth_time = ?
                    WHERE user_code_sha256 = ? AND status = 'pending' AND expires_at > ?
                    """,
                arguments: [username == nil ? "denied" : "approved", username, authTime, Data(userCodeDigest), now])
            return db.changesCount > 0
        }
    }

    func pollDeviceAuthorization(deviceCodeDigest: [UInt8], clientID: String, at now: EpochMilliseconds) async throws
        -> DevicePoll
    {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM device_authorizations WHERE device_code_sha256 = ?"),
                    arguments: [Data(deviceCodeDigest)]),
                (row["client_id"] as String).sameBytes(as: clientID)
            else { return .invalid }
            let id: Int64 = row["id"]
            let status: String = row["status"]
            if status == "redeemed" { return .invalid }
            guard (row["expires_at"] as Int64) > now else { return .expired }
            switch status {
            case "denied":
                return .denied
            case "approved":
                try db.execute(sql: "UPDATE device_authorizations SET status = 'redeemed' WHERE id = ?", arguments: [id])
                return .approved(username: row["username"], scope: row["scope"], authTime: row["auth_time"])
            default:
                let interval: Int = row["interval_seconds"]
                if let last: Int64 = row["last_polled_at"], now - last < Int64(interval) * 1000 {
                    try db.execute(
                        sql: "UPDATE device_authorizations SET interval_seconds = ?, last_polled_at = ? WHERE id = ?",
                        arguments: [interval + 5, now, id])
                    return .slowDown(intervalSeconds: interval + 5)
                }
                try db.execute(sql: "UPDATE device_authorizations SET last_polled_at = ? WHERE id = ?", arguments: [now, id])
                return .pending
            }
        }
    }

    func recordUserCodeFailure(source: String, windowStart: EpochMilliseconds) async throws -> (source: Int, total: Int) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO device_user_code_failures (window_start, source, failures) VALUES (?, ?, 1)
                    ON CONFLICT (window_start, source) DO UPDATE SET failures = failures + 1
                    """,
                arguments: [windowStart, source])
            let own = try Int.fetchOne(
                db, sql: "SELECT failures FROM device_user_code_failures WHERE window_start = ? AND source = ?",
                arguments: [windowStart, source]) ?? 0
            let total = try Int.fetchOne(
                db, sql: "SELECT coalesce(sum(failures), 0) FROM device_user_code_failures WHERE window_start = ?",
                arguments: [windowStart]) ?? 0
            return (own, total)
        }
    }
}
