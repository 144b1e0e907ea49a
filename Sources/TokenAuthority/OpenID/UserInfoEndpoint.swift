import Foundation

/// `GET /oauth2/userinfo` without HTTP (OpenID Connect Core §5.3): who the user of an
/// active access token with the `openid` scope is. Errors are RFC 6750 §3's.
public struct UserInfoEndpoint: Sendable {
    private let tokens: any TokenLookupStore
    private let minter: AccessTokenMinter
    private let clock: Clock

    public init(tokens: any TokenLookupStore, minter: AccessTokenMinter, clock: Clock) {
        self.tokens = tokens
        self.minter = minter
        self.clock = clock
    }

    /// - Parameter authorization: the `Authorization` header, `Bearer TOKEN` (RFC 6750 §2.1).
    /// - Returns: `{"sub":…,"preferred_username":…}`.
    public func handle(authorization: String?) async throws -> String {
        guard let token = Self.bearerToken(authorization) else { throw Self.missingToken }
        guard let digest = await minter.lookupDigest(of: token),
            let found = try await tokens.findToken(digest: digest, preferring: .accessToken),
            found.kind == .accessToken, found.isActive(at: clock.now())
        else { throw Self.invalidToken }
        guard case .user(let username) = found.subject, found.scopeSet.scopes.contains("openid") else {
            throw OAuthError(
                .insufficientScope, "The access token was not issued with the openid scope for a user.", status: 403)
        }
        var object = JSONObjectWriter()
        object.add("sub", username)
        object.add("preferred_username", username)
        return object.finish()
    }

    /// The token of `Bearer TOKEN`, the scheme's case ignored (RFC 9110 §11.1).
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// RFC 6750 §3.1: no token at all is a 401 without an error code.
    public static let missingToken = OAuthError(.invalidRequest, "The request has no Bearer access token.", status: 401)
    public static let invalidToken = OAuthError(
        .invalidToken, "The access token is invalid, expired or revoked.", status: 401)
}
