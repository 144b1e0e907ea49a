import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-endpoint.md, "Errors": every token-endpoint response is never cached.
func expectNoStore(_ reply: HTTPReply, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.header("Cache-Control") == "no-store", "Cache-Control", sourceLocation: sourceLocation)
    #expect(reply.header("Pragma") == "no-cache", "Pragma", sourceLocation: sourceLocation)
}

/// docs/token-endpoint.md, "Errors" / RFC 6749 §5.2: status, `error`, exactly
/// `{"error","error_description"}`, the no-store headers, and the Basic challenge exactly when the
/// status is 401.
func expectOAuthError(
    _ reply: HTTPReply, status: Int, error: String, description: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == status, "status of \(reply)", sourceLocation: sourceLocation)
    #expect(reply["error"] == .string(error), "error of \(reply)", sourceLocation: sourceLocation)
    #expect(reply.members == ["error", "error_description"], "members of \(reply)", sourceLocation: sourceLocation)
    #expect(reply["error_description"]?.string?.isEmpty == false, "error_description of \(reply)", sourceLocation: sourceLocation)
    if let description {
        #expect(reply["error_description"] == .string(description), sourceLocation: sourceLocation)
    }
    #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    expectNoStore(reply, sourceLocation: sourceLocation)
    if status == 401 {
        #expect(
            reply.header("WWW-Authenticate") == #"Basic realm="token-authority""#, sourceLocation: sourceLocation)
    } else {
        #expect(reply.header("WWW-Authenticate") == nil, sourceLocation: sourceLocation)
    }
}

/// docs/token-endpoint.md, "Success": a successful token response has exactly the seed's members.
func expectTokenResponse(
    _ reply: HTTPReply, withRefreshToken: Bool, scope: String? = nil, expiresIn: Int? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == 200, "\(reply)", sourceLocation: sourceLocation)
    var expected: Set<String> = ["access_token", "scope", "token_type", "expires_in"]
    if withRefreshToken { expected.insert("refresh_token") }
    // A user's sign-in with openid also answers an ID token (docs/browser-sign-in.md, "OpenID Connect").
    if withRefreshToken, reply.members.contains("id_token"), reply.scope?.split(separator: " ").contains("openid") == true {
        expected.insert("id_token")
    }
    #expect(reply.members == expected, "members of \(reply)", sourceLocation: sourceLocation)
    #expect(reply["token_type"] == "Bearer", sourceLocation: sourceLocation)
    #expect(reply.accessToken?.isEmpty == false, sourceLocation: sourceLocation)
    if withRefreshToken {
        #expect(reply.refreshToken?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(reply.refreshToken != reply.accessToken, sourceLocation: sourceLocation)
    }
    if let scope { #expect(reply.scope == scope, "scope of \(reply)", sourceLocation: sourceLocation) }
    if let expiresIn {
        #expect(reply.expiresIn == expiresIn, "expires_in of \(reply)", sourceLocation: sourceLocation)
    }
    expectNoStore(reply, sourceLocation: sourceLocation)
}
