import Logging
import TokenAuthority
import TokenStorage

/// The server's parts, opened and wired from a configuration: the database
/// (migrated), the token encryption key, the policies and the token endpoint.
/// `serve` and the tests build the HTTP application from this.
public struct TokenAuthorityServices: Sendable {
    public let configuration: DeploymentConfiguration
    /// The database `[database]` names, whichever store it is.
    public let store: any TokenDatabase
    public let cipher: TokenCipher
    /// `[oauth] issuer`, or the one derived from `[server]` and the bound port.
    public let issuer: IssuerName
    /// Signs JWT access tokens with the keys of `signing_keys`.
    let signingKeys: SigningKeyRing
    /// Makes access tokens, and finds the row of a presented one (opaque or JWT).
    public let minter: AccessTokenMinter
    public let passwordHasher: PasswordHasher
    public let clock: Clock
    public let tokenEndpoint: TokenEndpoint
    public let introspectionEndpoint: IntrospectionEndpoint
    public let revocationEndpoint: RevocationEndpoint
    /// `[security.source_limits]`; `nil` when both limits are 0.
    public let sourceLimiter: SourceFailureLimiter?
    /// Browser sign-in (docs/browser-sign-in.md): the authorization requests' checks,
    /// the sessions and codes, the login form's CSRF tokens.
    public let authorizationRequests: AuthorizationRequestValidator
    public let signIn: SignInService
    let loginCSRF: LoginCSRF
    let signInPages: SignInPages
    let signInLogo: SignInLogo?
    /// Where a request comes from, behind `trusted_proxies` too: for every per-source count.
    let requestSource: RequestSource
    /// Authenticates the clients of `POST /oauth2/device_authorization`.
    let deviceClientAuthenticator: ClientAuthenticator
    /// The device authorization grant (RFC 8628): requests, `/device`'s decisions.
    public let deviceAuthorization: DeviceAuthorizationService
    /// Finds the user of a Bearer token at `/oauth2/userinfo`.
    public let userInfoEndpoint: UserInfoEndpoint
    /// `scopes_supported` of the metadata documents, read again when a client changed.
    let knownScopes: KnownScopes
    /// The clients token requests find in memory, dropped when another process
    /// changes one (docs/storage.md, "Clients in memory").
    let clients: ClientCache

    /// Opens the configured database (migrated) and wires the rest to it.
    /// - Parameters:
    ///   - migrations: the schema to apply; the files compiled into the binary by default.
    ///   - clock: a test seam; the system clock by default.
    ///   - passwordHasher: a test seam for a cheaper KDF cost.
    public static func open(
        configuration: DeploymentConfiguration, migrations: [Migration]? = nil, clock: Clock = .system,
        passwordHasher: PasswordHasher = PasswordHasher(), logger: Logger = Logger(label: "token-authority")
    ) async throws -> TokenAuthorityServices {
        let store = try await TokenStorage.open(
            configuration.database, migrations: migrations, now: clock.now(), logger: logger)
        do {
            return try TokenAuthorityServices(
                configuration: configuration, store: store, clock: clock, passwordHasher: passwordHasher)
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Wires the server's parts to an open store.
    public init(
        configuration: DeploymentConfiguration, store: any TokenDatabase, clock: Clock = .system,
        passwordHasher: PasswordHasher = PasswordHasher()
    ) throws {
        self.configuration = configuration
        self.clock = clock
        self.passwordHasher = passwordHasher
        self.store = store
        let serverKey = try ServerKeyFile.loadOrCreate(path: configuration.database.keyFile)
        cipher = try TokenCipher(keyBytes: serverKey)
        loginCSRF = LoginCSRF(serverKey: serverKey)
        signInLogo = try SignInLogo.load(configuration.signIn.logoFile)
        signInPages = try SignInPages(productName: configuration.signIn.productName, hasLogo: signInLogo != nil)
        let scopePolicy = try ScopePolicy(allowedScopes: configuration.oauth.allowedScopes)
        issuer = IssuerName(configuration)
        signingKeys = SigningKeyRing(store: store, cipher: cipher, issuer: issuer, clock: clock)
        minter = AccessTokenMinter(cipher: cipher, signer: signingKeys)
        let tokenIssuer = TokenIssuer(
            store: store, cipher: cipher, minter: minter, settings: configuration.oauth, clock: clock)
        // Token requests find their client in memory (docs/storage.md, "Clients in memory").
        let clients = ClientCache(store: store)
        self.clients = clients
        let authenticator = ClientAuthenticator(clients: clients)
        let users = UserAuthenticator(
            users: store, passwordHasher: passwordHasher, locking: configuration.security.accountLocking, clock: clock)
        let clientLimiter = ClientRateLimiter(limits: configuration.security.clientLimits, clock: clock)
        sourceLimiter = SourceFailureLimiter(limits: configuration.security.sourceLimits, clock: clock)
        introspectionEndpoint = IntrospectionEndpoint(
            authenticator: authenticator, users: users, tokens: store, minter: minter,
            superAdminUsername: configuration.superAdmin.createAdminAccount ? configuration.superAdmin.username : nil,
            clock: clock, clientLimiter: clientLimiter)
        revocationEndpoint = RevocationEndpoint(authenticator: authenticator, tokens: store, minter: minter, clock: clock)
        authorizationRequests = AuthorizationRequestValidator(clients: clients, scopePolicy: scopePolicy)
        signIn = SignInService(
            store: store, users: users, clock: clock, sessionLifetimeSeconds: configuration.signIn.sessionLifetime)
        userInfoEndpoint = UserInfoEndpoint(tokens: store, minter: minter, clock: clock)
        let idTokens = IDTokenMinter(signer: signingKeys, clock: clock)
        deviceAuthorization = DeviceAuthorizationService(
            store: store, scopePolicy: scopePolicy, settings: configuration.deviceAuthorization, clock: clock)
        deviceClientAuthenticator = authenticator
        knownScopes = KnownScopes(clients: store, allowedScopes: configuration.oauth.allowedScopes)
        requestSource = RequestSource(trustedProxies: configuration.security.sourceLimits.trustedProxies)
        tokenEndpoint = TokenEndpoint(
            authenticator: authenticator,
            grants: [
                AuthorizationCodeGrant(store: store, issuer: tokenIssuer, idTokens: idTokens, clock: clock),
                DeviceCodeGrant(store: store, issuer: tokenIssuer, idTokens: idTokens, clock: clock),
                PasswordGrant(users: users, scopePolicy: scopePolicy, issuer: tokenIssuer, idTokens: idTokens, clock: clock),
                ClientCredentialsGrant(scopePolicy: scopePolicy, issuer: tokenIssuer),
                RefreshTokenGrant(
                    store: store, cipher: cipher, minter: minter, idTokens: idTokens, settings: configuration.oauth,
                    clock: clock),
            ], clientLimiter: clientLimiter)
    }

    /// Puts the JWT signing key in place: the configured one, or one generated on first start.
    public func ensureSigningKey() async throws -> SigningKeySetup.Outcome {
        try await SigningKeySetup.prepare(configuration: configuration, store: store, cipher: cipher, clock: clock)
    }

    /// `keys rotate`: a new signing key; returns its id.
    public func rotateSigningKey() async throws -> String {
        let keyID = try await SigningKeySetup.rotate(
            configuration: configuration, store: store, cipher: cipher, clock: clock)
        signingKeys.forgetCurrentKey()
        return keyID
    }

    /// Closes the database after graceful shutdown.
    public func close() async throws {
        try await store.close()
    }

    /// Creates or updates the `[super_admin]` account.
    public func ensureSuperAdmin() async throws -> SuperAdminAccount.Outcome {
        try await SuperAdminAccount.ensure(configuration.superAdmin, users: store, hasher: passwordHasher, clock: clock)
    }
}
