/// Checks a resource owner's password (the password grant, and the super admin
/// at introspection) with WSO2's account locking: after
/// `allowed_failed_attempts` failures in a row the account is locked for
/// `auto_unlock_after`. A locked account answers exactly like a wrong password,
/// and costs the same KDF run, so a caller cannot tell which it met.
public struct UserAuthenticator: Sendable {
    private let users: any UserStore
    private let passwordHasher: PasswordHasher
    private let locking: SecuritySettings.AccountLocking
    private let clock: Clock

    public init(
        users: any UserStore, passwordHasher: PasswordHasher, locking: SecuritySettings.AccountLocking, clock: Clock
    ) {
        self.users = users
        self.passwordHasher = passwordHasher
        self.locking = locking
        self.clock = clock
    }

    /// The user, when the password is right and the account is not locked; `nil` otherwise.
    /// The check runs in a slot of the source's failed-login budget (`CredentialCheckGate`):
    /// a source at its limit gets 429 and starts no KDF run.
    public func authenticate(username: String, password: String) async throws -> User? {
        try await CredentialCheckGate.run(.login, { try await check(username: username, password: password) }, failed: { $0 == nil })
    }

    private func check(username: String, password: String) async throws -> User? {
        TokenMetrics.credentialChecked(.password)
        let user = try await users.user(named: username)
        // An unknown user costs the same KDF run as a wrong password, so the
        // response time does not tell which usernames exist.
        let verified = await passwordHasher.verify(password, against: user?.passwordHash ?? passwordHasher.decoyHash)
        guard let user else { return nil }
        guard locking.enable else { return verified ? user : nil }
        let now = clock.now()
        // A locked account refuses even the right password, and failures while it
        // is locked do not extend the lock.
        if user.isLocked(at: now) { return nil }
        guard verified else {
            let lockUntil = now + EpochMilliseconds(locking.autoUnlockAfter) * 1000
            if try await users.recordFailedLogin(
                username: username, threshold: locking.allowedFailedAttempts, lockUntil: lockUntil)
            {
                TokenMetrics.accountLocked()
            }
            return nil
        }
        if user.failedLoginAttempts > 0 || user.lockedUntil != nil {
            _ = try await users.clearFailedLogins(username: username)
        }
        return user
    }
}
