import Glibc
import PostgresNIO
import TokenAuthority

/// What a PostgresNIO error means to the store, and how to say it in one line
/// without a secret. `PSQLError`'s own description is deliberately generic, so the
/// reason is read from its parts: the server's message and SQLSTATE, or the
/// network error underneath.
enum PostgresFailure {
    /// SQLSTATEs meaning the database cannot answer now, whatever the request
    /// (PostgreSQL, "Appendix A. Error Codes"): connection exceptions (class 08),
    /// insufficient resources (class 53, a full disk among them), the server shutting
    /// down or not yet accepting connections (57P01, 57P02, 57P03), and a read-only
    /// database (25006: a standby, or default_transaction_read_only).
    static func isUnavailableState(_ state: String) -> Bool {
        state.hasPrefix("08") || state.hasPrefix("53") || ["57P01", "57P02", "57P03", "25006"].contains(state)
    }

    /// A transaction that lost to a concurrent one and may simply run again:
    /// serialization failure (40001), deadlock (40P01), and, where the caller's
    /// writes can only collide with another's ACTIVE row, unique violation (23505).
    static func isConflict(_ error: any Error, includingUniqueViolations: Bool) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state == "40001" || state == "40P01" || (includingUniqueViolations && state == "23505")
    }

    static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    static func isUniqueViolation(_ error: any Error) -> Bool {
        sqlState(error) == "23505"
    }

    /// True when `error` means the database cannot answer: the connection refused,
    /// closed or lost, or one of the SQLSTATEs above.
    static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is StoreUnavailable, is NIOConnectionError, is IOError, is ChannelError:
            return true
        case let error as PSQLError:
            switch error.code {
            case .server:
                return sqlState(error).map(isUnavailableState) ?? false
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                .sslUnsupported, .failedToAddSSLHandler:
                return true
            default:
                return false
            }
        default:
            return false
        }
    }

    /// `error` as the store throws it: `StoreUnavailable` (the server answers 503)
    /// when the database cannot answer, `StoreError.ownerGone` for a foreign key that
    /// failed (a client or user deleted meanwhile), otherwise unchanged.
    static func mapped(_ error: any Error, url: String) -> any Error {
        if sqlState(error) == "23503" { return StoreError.ownerGone }  // foreign_key_violation
        if error is StoreUnavailable || !isUnavailable(error) { return error }
        return StoreUnavailable("PostgreSQL at \(url): \(reason(error))")
    }

    /// One line saying why, for an operator: the server's message, or what the
    /// network said. Never the password (the server's messages name the user only).
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as PSQLError:
            return reason(error)
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return reason(first.error) }
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(reason(dns))" }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as StoreUnavailable:
            return error.reason
        default:
            return String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }

    private static func reason(_ error: PSQLError) -> String {
        switch error.code {
        case .server:
            let message = error.serverInfo?[.message] ?? "an error without a message"
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        case .connectionError:
            return error.underlying.map(reason) ?? "the connection failed"
        case .serverClosedConnection:
            return "the server closed the connection"
        case .clientClosedConnection, .poolClosed:
            return "the connection was closed (the store is shutting down)"
        case .uncleanShutdown:
            return "the connection was lost"
        case .sslUnsupported:
            return "the server does not accept TLS connections (tls = \"require\" or \"verify-full\" was asked for)"
        case .failedToAddSSLHandler:
            return "TLS could not start: \(error.underlying.map(reason) ?? "unknown reason")"
        case .authMechanismRequiresPassword:
            return "the server asks for a password and none is configured"
        case .unsupportedAuthMechanism:
            return "the server asks for an authentication method this client does not support (use scram-sha-256)"
        case .saslError:
            return "SCRAM authentication failed"
        default:
            return "\(error.code)"
        }
    }
}
