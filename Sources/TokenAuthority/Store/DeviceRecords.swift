/// What the device authorization grant keeps in the database (RFC 8628;
/// docs/device-sign-in.md): one row per device's request, decided by a user at
/// `/device` and redeemed by the device's poll, on whichever instances they land.
public protocol DeviceAuthorizationStore: Sendable {
    /// - Throws: `StoreError.alreadyExists` when either code's digest is taken (draw again).
    func createDeviceAuthorization(_ authorization: NewDeviceAuthorization) async throws

    /// The pending, unexpired request a user code names: what `/device` shows before approval.
    func pendingDeviceAuthorization(userCodeDigest: [UInt8], at now: EpochMilliseconds) async throws
        -> PendingDeviceAuthorization?

    /// Approves (`username` given) or denies (`nil`) a pending, unexpired request, once: false
    /// when there is none, or it was decided already.
    func decideDeviceAuthorization(
        userCodeDigest: [UInt8], approvedBy username: String?, authTime: EpochMilliseconds?, at now: EpochMilliseconds
    ) async throws -> Bool

    /// One poll of the token endpoint, in one write transaction (RFC 8628 §3.5): an approved
    /// request is redeemed by exactly one poll; a poll sooner than the interval after the
    /// previous one is `slowDown`, and the interval grows by 5 seconds.
    func pollDeviceAuthorization(deviceCodeDigest: [UInt8], clientID: String, at now: EpochMilliseconds) async throws
        -> DevicePoll

    /// Counts a wrong user code from `source` in the window starting at `windowStart`; returns
    /// that source's failures and everyone's in the window, this one included.
    func recordUserCodeFailure(source: String, windowStart: EpochMilliseconds) async throws
        -> (source: Int, total: Int)
}

/// A device's request as `POST /oauth2/device_authorization` makes it.
public struct NewDeviceAuthorization: Sendable, Equatable {
    public var deviceCodeDigest: [UInt8]
    public var userCodeDigest: [UInt8]
    public var clientID: String
    /// The canonical scope string.
    public var scope: String
    public var intervalSeconds: Int
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds

    public init(
        deviceCodeDigest: [UInt8], userCodeDigest: [UInt8], clientID: String, scope: String, intervalSeconds: Int,
        issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds
    ) {
        self.deviceCodeDigest = deviceCodeDigest
        self.userCodeDigest = userCodeDigest
        self.clientID = clientID
        self.scope = scope
        self.intervalSeconds = intervalSeconds
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// A request waiting for the user's decision.
public struct PendingDeviceAuthorization: Sendable, Equatable {
    public var clientID: String
    public var scope: String
    public var expiresAt: EpochMilliseconds

    public init(clientID: String, scope: String, expiresAt: EpochMilliseconds) {
        self.clientID = clientID
        self.scope = scope
        self.expiresAt = expiresAt
    }
}

/// What one poll finds (RFC 8628 §3.5).
public enum DevicePoll: Sendable, Equatable {
    /// Approved, and redeemed by this poll: issue the tokens for the user.
    case approved(username: String, scope: String, authTime: EpochMilliseconds?)
    case pending
    /// Polled too soon: the interval is now `intervalSeconds`.
    case slowDown(intervalSeconds: Int)
    case denied
    case expired
    /// No such device code, another client's, or one already redeemed.
    case invalid
}
