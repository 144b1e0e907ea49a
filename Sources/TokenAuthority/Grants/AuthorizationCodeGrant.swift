/// The authorization code grant's exchange (RFC 6749 §4.1.3, RFC 7636 §4.5;
/// docs/browser-sign-in.md, "The code and its exchange").
public struct AuthorizationCodeGrant: GrantHandler {
    public let grantType = GrantType.authorizationCode
    private let store: any SignInStore
    private let issuer: TokenIssuer
    private let idTokens: IDTokenMinter
    private let clock: Clock

    public init(store: any SignInStore, issuer: TokenIssuer, idTokens: IDTokenMinter, clock: Clock) {
        self.store = store
        self.issuer = issuer
        self.idTokens = idTokens
        self.clock = clock
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let code = try form.required("code")
        let digest = TokenCipher.digest(of: code)
        let grant: AuthorizationCodeGrantRecord
        switch try await store.redeemAuthorizationCode(digest: digest, clientID: client.clientID, at: clock.now()) {
        case .redeemed(let redeemed):
            grant = redeemed
        case .replayed:
            throw OAuthError.invalidGrant.with(
                description: "The authorization code was already used: the tokens issued for it are revoked.")
        case .expired, .unknown:
            throw OAuthError.invalidGrant.with(description: "The authorization code is invalid or expired.")
        }
        // From here a failure leaves the code redeemed: whoever holds a code with a
        // wrong verifier or redirect URI must not get to try again.
        // RFC 6749 §4.1.3: the redirect_uri the authorization request named, byte for byte; it
        // may be left out only when that request left it out too.
        if let redirectURI = form["redirect_uri"] {
            guard redirectURI.sameBytes(as: grant.redirectURI) else {
                throw OAuthError.invalidGrant.with(description: "The redirect_uri is not the one the code was sent to.")
            }
        } else if grant.redirectURIWasNamed {
            throw OAuthError.invalidRequest.with(
                description: "The request has no redirect_uri; the authorization request named one.")
        }
        switch (grant.codeChallenge, form["code_verifier"]) {
        case (nil, nil):
            break
        case (let challenge?, let verifier?) where PKCE.verifier(verifier, matches: challenge):
            break
        case (_?, nil):
            throw OAuthError.invalidGrant.with(description: "The code was issued with a PKCE challenge: code_verifier is required.")
        case (nil, _?):
            throw OAuthError.invalidGrant.with(description: "The code was issued without a PKCE challenge.")
        case (_?, _?):
            throw OAuthError.invalidGrant.with(description: "The code_verifier does not match the code_challenge.")
        }

        let key = TokenKey(
            clientID: client.clientID, subject: .user(grant.username),
            scope: ScopeSet(validated: grant.scope.split(separator: " ").map(String.init)))
        let issued = try await issuer.issueTokens(
            for: key, grantType: grantType, format: client.tokenFormat, authTime: grant.authTime)
        if let familyID = issued.familyID {
            try await store.recordAuthorizationCodeFamily(digest: digest, familyID: familyID, at: clock.now())
        }
        return try await idTokens.adding(
            to: issued.response, username: grant.username, clientID: client.clientID, authTime: grant.authTime,
            nonce: grant.nonce)
    }
}
