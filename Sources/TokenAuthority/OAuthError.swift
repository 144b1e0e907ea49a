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
    }

    public var code: Code
    /// Human-readable `error_description`. Never holds a secret.
    public var errorDescription: String
    /// HTTP status, fixed by SPEC §4's error table.
    public var status: Int

    public init(_ code: Code, _ errorDescription: String, status: Int? = nil) {
        self.code = code
        self.errorDescription = errorDescription
        self.status = status ?? Self.defaultStatus(for: code)
    }

    public var description: String { "\(code.rawValue): \(errorDescription)" }

    /// The same error with another description.
    public func with(description: String) -> OAuthError {
        OAuthError(code, description, status: status)
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
    /// SPEC §4: a body over 64 KiB.
    public static let requestTooLarge = OAuthError(.invalidRequest, "The request body is too large.", status: 413)

    /// SPEC §4: "wrong username or password".
    public static func authenticationFailed(for username: String) -> OAuthError {
        OAuthError(.invalidGrant, "Authentication failed for \(username)")
    }

    public static func missingParameter(_ name: String) -> OAuthError {
        invalidRequest.with(description: "Missing parameter: \(name)")
    }
}
