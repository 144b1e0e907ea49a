/// An RFC 6749 §5.2 error: one type with sentinel values, refined by a description
/// (as ory/fosite does) rather than one type per failure.
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `error` member of the response (RFC 6749 §5.2, RFC 7009 §2.2.1).
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
        case unsupportedTokenType = "unsupported_token_type"
        case serverError = "server_error"
        /// An extension code (RFC 6749 §8.5) for 429: RFC 6749 has none for rate limits.
        case tooManyRequests = "too_many_requests"
        /// The authorization endpoint's (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
        case unsupportedResponseType = "unsupported_response_type"
        case loginRequired = "login_required"
        case accessDenied = "access_denied"
        /// OpenID Connect Core §3.1.2.6: request objects (§6) are not supported.
        case requestNotSupported = "request_not_supported"
        case requestURINotSupported = "request_uri_not_supported"
        /// A protected resource's (RFC 6750 §3.1): the userinfo endpoint.
        case invalidToken = "invalid_token"
        case insufficientScope = "insufficient_scope"
        /// The device authorization grant's (RFC 8628 §3.5).
        case authorizationPending = "authorization_pending"
        case slowDown = "slow_down"
        case expiredToken = "expired_token"
    }

    public var code: Code
    /// Human-readable `error_description`, only of the characters RFC 6749 §5.2 allows
    /// there (`describable`). Never holds a secret.
    public private(set) var errorDescription: String
    /// HTTP status, fixed by the error table of docs/token-endpoint.md.
    public var status: Int
    /// Seconds for the `Retry-After` header of a 429 or 503 (RFC 9110 §10.2.3).
    public var retryAfter: Int?

    public init(_ code: Code, _ errorDescription: String, status: Int? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.errorDescription = Self.describable(errorDescription)
        self.status = status ?? Self.defaultStatus(for: code)
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(errorDescription)" }

    /// The same error with another description.
    public func with(description: String) -> OAuthError {
        var error = self
        error.errorDescription = Self.describable(description)
        return error
    }

    /// `text` within the characters RFC 6749 §5.2 allows in `error_description`,
    /// `%x20-21 / %x23-5B / %x5D-7E`: a quote becomes `'`, a backslash `/`, and any other
    /// character outside them (a control, a bidirectional override, any non-ASCII) `?`.
    static func describable(_ text: String) -> String {
        // The usual case, a fixed description: nothing to replace.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return text
        }
        var described = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": described.append("'")
            case "\\": described.append("/")
            case " "..."~": described.append(scalar)
            default: described.append("?")
            }
        }
        return String(described)
    }

    private static func defaultStatus(for code: Code) -> Int {
        switch code {
        case .invalidClient: 401
        case .serverError: 500
        default: 400
        }
    }
}

extension OAuthError {
    public static let invalidRequest = OAuthError(.invalidRequest, "The request is malformed.")
    public static let invalidClient = OAuthError(.invalidClient, "Client authentication failed.")
    public static let invalidGrant = OAuthError(.invalidGrant, "The provided authorization grant is invalid.")
    public static let unauthorizedClient = OAuthError(
        .unauthorizedClient, "The client is not authorized to use this grant type.")
    public static let unsupportedGrantType = OAuthError(.unsupportedGrantType, "The grant type is not supported.")
    public static let invalidScope = OAuthError(.invalidScope, "The requested scope is invalid.")
    public static let serverError = OAuthError(.serverError, "The server encountered an unexpected condition.")
    /// A body over `[security.http] max_body_size` (64 KiB by default; docs/token-endpoint.md).
    public static let requestTooLarge = OAuthError(.invalidRequest, "The request body is too large.", status: 413)
    /// The connection closed (or timed out) before the whole body arrived: 408.
    public static let incompleteBody = OAuthError(.invalidRequest, "The request body did not arrive in time.", status: 408)

    /// The database cannot write or answer now (disk full, file read-only, I/O
    /// error, lock held too long): nothing changed, and the request may be retried.
    public static let serviceUnavailable = OAuthError(
        .serverError, "The service is temporarily unavailable; retry later.", status: 503, retryAfter: 5)

    /// A `[security]` limit was reached: 429 with `Retry-After`.
    public static func tooManyRequests(_ description: String, retryAfter: Int) -> OAuthError {
        OAuthError(.tooManyRequests, description, status: 429, retryAfter: max(1, retryAfter))
    }

    /// A wrong username or password, WSO2's words. The username echoed is the
    /// caller's own, cut to `echoedUsernameLength` characters, and like every
    /// description holds nothing outside RFC 6749 §5.2's characters (`describable`), so
    /// nothing that could disguise text (controls, bidirectional overrides).
    public static func authenticationFailed(for username: String) -> OAuthError {
        OAuthError(.invalidGrant, "Authentication failed for \(echoable(username))")
    }

    public static let echoedUsernameLength = 64

    static func echoable(_ text: String) -> String {
        let scalars = text.unicodeScalars
        return String(String.UnicodeScalarView(scalars.prefix(echoedUsernameLength)))
            + (scalars.count > echoedUsernameLength ? "..." : "")
    }

    public static func missingParameter(_ name: String) -> OAuthError {
        invalidRequest.with(description: "Missing parameter: \(name)")
    }
}
