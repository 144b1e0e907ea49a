/// The login page's sessions and the codes of the authorization endpoint
/// (docs/browser-sign-in.md), without HTTP: the server turns cookies and forms into
/// these calls. Everything lives in the database (`SignInStore`), so any instance
/// may serve any step of a sign-in.
public struct SignInService: Sendable {
    private let store: any SignInStore
    private let users: UserAuthenticator
    private let clock: Clock
    /// `[sign_in] session_lifetime`, in milliseconds.
    private let sessionLifetime: EpochMilliseconds

    /// How long a code may wait for its exchange (RFC 6749 §4.1.2: "a maximum
    /// authorization code lifetime of 10 minutes is RECOMMENDED"; a minute suffices).
    public static let codeLifetime: EpochMilliseconds = 60_000

    public init(store: any SignInStore, users: UserAuthenticator, clock: Clock, sessionLifetimeSeconds: Int) {
        self.store = store
        self.users = users
        self.clock = clock
        self.sessionLifetime = EpochMilliseconds(sessionLifetimeSeconds) * 1000
    }

    /// Checks the password as the password grant does (account locking, the
    /// per-source limit) and opens a session. Returns the session cookie's value,
    /// or `nil` for a wrong password, an unknown user or a locked account alike.
    public func signIn(username: String, password: String) async throws -> (cookie: String, session: SessionRecord)? {
        guard let user = try await users.authenticate(username: username, password: password) else { return nil }
        let now = clock.now()
        let cookie = ClientSecret.generate()
        let session = NewSession(
            digest: TokenCipher.digest(of: cookie), username: user.username, authTime: now, createdAt: now,
            expiresAt: now + sessionLifetime)
        try await store.createSession(session)
        return (cookie, SessionRecord(username: user.username, authTime: now, expiresAt: session.expiresAt))
    }

    /// The live session a session cookie stands for; `nil` for no cookie, a
    /// malformed one, or one whose session ended or expired.
    public func session(cookie: String?) async throws -> SessionRecord? {
        guard let cookie, Self.isSessionCookie(cookie) else { return nil }
        return try await store.liveSession(digest: TokenCipher.digest(of: cookie), at: clock.now())
    }

    /// Ends the session of `cookie` (logout); false when it had none.
    public func signOut(cookie: String?) async throws -> Bool {
        guard let cookie, Self.isSessionCookie(cookie) else { return false }
        return try await store.endSession(digest: TokenCipher.digest(of: cookie), at: clock.now())
    }

    /// A new code for `request`, signed in as `session`: 128 random bits, stored
    /// only as their SHA-256, valid for `codeLifetime`.
    public func issueCode(for request: AuthorizationRequest, session: SessionRecord) async throws -> String {
        let code = Base64URL.encode(secureRandomBytes(16))
        let now = clock.now()
        try await store.createAuthorizationCode(
            NewAuthorizationCode(
                digest: TokenCipher.digest(of: code),
                grant: AuthorizationCodeGrantRecord(
                    clientID: request.client.clientID, username: session.username, redirectURI: request.redirectURI,
                    redirectURIWasNamed: request.redirectURIWasNamed, scope: request.scope.description,
                    codeChallenge: request.codeChallenge, nonce: request.nonce, authTime: session.authTime),
                issuedAt: now, expiresAt: now + Self.codeLifetime))
        return code
    }

    /// 256 bits in base64url, as `ClientSecret.generate` makes them.
    static func isSessionCookie(_ value: String) -> Bool {
        Base64URL.isEncoding(value, ofByteCount: 32)
    }
}
