/// The device authorization grant without HTTP (RFC 8628; docs/device-sign-in.md):
/// starting a device's request, finding and deciding it at `/device`, and counting
/// wrong user codes per source and in total, in the database.
public struct DeviceAuthorizationService: Sendable {
    private let store: any DeviceAuthorizationStore
    private let scopePolicy: ScopePolicy
    private let settings: DeviceAuthorizationSettings
    private let clock: Clock

    public init(
        store: any DeviceAuthorizationStore, scopePolicy: ScopePolicy, settings: DeviceAuthorizationSettings,
        clock: Clock
    ) {
        self.store = store
        self.scopePolicy = scopePolicy
        self.settings = settings
        self.clock = clock
    }

    /// `POST /oauth2/device_authorization` for an authenticated client (RFC 8628 §3.1, §3.2).
    public func start(client: Client, requestedScope: String?) async throws -> DeviceAuthorizationResponse {
        guard client.grantTypes.contains(.deviceCode) else {
            throw OAuthError.unauthorizedClient.with(
                description: "The client is not authorized to use the device authorization grant.")
        }
        let scope = scopePolicy.grantedScope(requested: try ScopeSet(parsing: requestedScope), clientScopes: client.scopes)
        let now = clock.now()
        // A user code taken by a live request (one in a million at 1,000 live requests) is drawn again.
        for _ in 0..<5 {
            let deviceCode = ClientSecret.generate()
            let userCode = UserCode.generate()
            do {
                try await store.createDeviceAuthorization(
                    NewDeviceAuthorization(
                        deviceCodeDigest: TokenCipher.digest(of: deviceCode), userCodeDigest: TokenCipher.digest(of: userCode),
                        clientID: client.clientID, scope: scope.description, intervalSeconds: settings.interval,
                        issuedAt: now, expiresAt: now + EpochMilliseconds(settings.expiresIn) * 1000))
                return DeviceAuthorizationResponse(
                    deviceCode: deviceCode, userCode: userCode, expiresIn: settings.expiresIn, interval: settings.interval)
            } catch StoreError.alreadyExists {
                continue
            }
        }
        throw OAuthError.serverError
    }

    /// The pending request a typed user code names, with the code made canonical; `nil`
    /// when there is none (the caller counts the failure).
    public func pending(userCode typed: String) async throws -> (code: String, request: PendingDeviceAuthorization)? {
        guard let code = UserCode.canonical(typed),
            let request = try await store.pendingDeviceAuthorization(userCodeDigest: TokenCipher.digest(of: code), at: clock.now())
        else { return nil }
        return (code, request)
    }

    /// Approves for `session`'s user, or denies; false when the request is no longer pending.
    public func decide(userCode: String, approve: Bool, session: SessionRecord) async throws -> Bool {
        guard let code = UserCode.canonical(userCode) else { return false }
        return try await store.decideDeviceAuthorization(
            userCodeDigest: TokenCipher.digest(of: code), approvedBy: approve ? session.username : nil,
            authTime: approve ? session.authTime : nil, at: clock.now())
    }

    /// Counts a wrong user code from `source`; throws 429 once the source's or everyone's
    /// failures in the current minute pass the limits (RFC 8628 §5.1).
    public func recordWrongUserCode(source: String) async throws {
        let now = clock.now()
        let windowStart = now - now % 60_000
        let counts = try await store.recordUserCodeFailure(source: source, windowStart: windowStart)
        if counts.source > settings.failuresPerSourcePerMinute || counts.total > settings.failuresPerMinute {
            throw OAuthError.tooManyRequests(
                "Too many wrong user codes; try again in a minute.",
                retryAfter: Int((windowStart + 60_000 - now + 999) / 1000))
        }
    }
}

/// `[oauth.device_authorization]` (README, "Configuration").
public struct DeviceAuthorizationSettings: Sendable, Equatable {
    /// Seconds a request lives (`expires_in`, RFC 8628 §3.2).
    public var expiresIn: Int
    /// Seconds between polls (`interval`).
    public var interval: Int
    /// Wrong user codes one source may enter per minute, and everyone together.
    public var failuresPerSourcePerMinute: Int
    public var failuresPerMinute: Int

    public init(expiresIn: Int = 600, interval: Int = 5, failuresPerSourcePerMinute: Int = 10, failuresPerMinute: Int = 100)
    {
        self.expiresIn = expiresIn
        self.interval = interval
        self.failuresPerSourcePerMinute = failuresPerSourcePerMinute
        self.failuresPerMinute = failuresPerMinute
    }
}

/// RFC 8628 §3.2's answer, less the URIs the server adds.
public struct DeviceAuthorizationResponse: Sendable, Equatable {
    public var deviceCode: String
    /// Canonical, without the dash.
    public var userCode: String
    public var expiresIn: Int
    public var interval: Int
}
