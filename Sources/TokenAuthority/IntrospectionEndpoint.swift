/// `POST /oauth2/introspect` without HTTP (RFC 7662). The caller is the super
/// admin (HTTP Basic username and password, the seeds' `curl -u admin:admin`) or
/// a client registered with `--introspection`; anyone else is `invalid_client`.
public struct IntrospectionEndpoint: Sendable {
    private let authenticator: ClientAuthenticator
    private let users: UserAuthenticator
    private let tokens: any TokenLookupStore
    private let minter: AccessTokenMinter
    private let clientLimiter: ClientRateLimiter?
    /// `nil` when `[super_admin] create_admin_account = false`.
    private let superAdminUsername: String?
    private let clock: Clock

    public init(
        authenticator: ClientAuthenticator, users: UserAuthenticator, tokens: any TokenLookupStore,
        minter: AccessTokenMinter, superAdminUsername: String?, clock: Clock, clientLimiter: ClientRateLimiter? = nil
    ) {
        self.minter = minter
        self.authenticator = authenticator
        self.users = users
        self.tokens = tokens
        self.clientLimiter = clientLimiter
        self.superAdminUsername = superAdminUsername
        self.clock = clock
    }

    public func handle(form: FormParameters, authorization: String?) async throws -> IntrospectionResponse {
        try await handle(form: form, credentials: try ClientCredentials.from(authorization: authorization, form: form))
    }

    /// - Parameter credentials: what `ClientCredentials.from` found in the request.
    public func handle(form: FormParameters, credentials: ClientCredentials?) async throws -> IntrospectionResponse {
        let caller = try await authorizeCaller(credentials)
        if let credentials { try clientLimiter?.admit(credentials.clientID) }
        let token = try form.required("token")
        let hint = form["token_type_hint"].flatMap(TokenKind.init(rawValue:))
        guard let digest = await minter.lookupDigest(of: token),
            let found = try await tokens.findToken(digest: digest, preferring: hint),
            found.isActive(at: clock.now())
        else { return .inactive }
        // A refresh token is a credential of the client it was issued to, never
        // shown to a resource server: another client learns only that it is not
        // active for it (RFC 7662 §2.2 lets the server say so). The super admin sees all.
        if found.kind == .refreshToken, case .client(let clientID) = caller, !found.clientID.sameBytes(as: clientID) {
            return .inactive
        }
        return .active(found)
    }

    /// Who introspects: an introspection client, or the super admin.
    private enum Caller {
        case client(String)
        case superAdmin
    }

    private func authorizeCaller(_ credentials: ClientCredentials?) async throws -> Caller {
        guard let credentials else {
            throw OAuthError.invalidClient.with(description: "Introspection requires HTTP Basic authentication.")
        }
        // The super admin's username that no client has: the password path alone, a
        // login in the source's failed-login budget (a source at its limit starts no KDF).
        // Resource servers are better served by an introspection client: a digest, not a KDF.
        if let superAdminUsername, credentials.clientID.sameBytes(as: superAdminUsername),
            try await !authenticator.isRegistered(credentials.clientID)
        {
            guard let password = credentials.secret,
                try await users.authenticate(username: credentials.clientID, password: password) != nil
            else { throw OAuthError.invalidClient }
            return .superAdmin
        }
        let client = try await authenticator.authenticate(credentials)
        // Authenticated, but not allowed: 403, not a 401 whose challenge would ask for other
        // credentials (RFC 9110 §15.5.4).
        guard client.mayIntrospect else {
            throw OAuthError(
                .unauthorizedClient, "The client is not allowed to introspect tokens (client create --introspection).",
                status: 403)
        }
        return .client(client.clientID)
    }
}

/// RFC 7662 §2.2: an active token's claims, or exactly `{"active":false}`.
public enum IntrospectionResponse: Sendable, Equatable {
    case inactive
    case active(FoundToken)

    public var json: String {
        guard case .active(let token) = self else { return #"{"active":false}"# }
        var object = JSONObjectWriter()
        object.add("active", true)
        object.add("scope", token.scope)
        object.add("client_id", token.clientID)
        if case .user(let username) = token.subject { object.add("username", username) }
        object.add("sub", token.subject.name)
        object.add("token_type", token.kind == .accessToken ? "Bearer" : "refresh_token")
        object.add("exp", Int(token.expiresAt / 1000))
        object.add("iat", Int(token.issuedAt / 1000))
        object.add("nbf", Int(token.issuedAt / 1000))
        return object.finish()
    }
}
