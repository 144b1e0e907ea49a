import TokenAuthority

/// `[super_admin]`: the account of the seeds' `admin`/`admin`, a user of the password
/// grant. `deployment.toml` is the source of truth for its password when it sets one.
public enum SuperAdminAccount {
    public enum Outcome: Equatable, Sendable {
        case disabled
        case unchanged
        case created
        /// Created with a generated password, which the caller shows once.
        case createdWithGeneratedPassword(String)
        case passwordUpdated
    }

    public static func ensure(
        _ settings: DeploymentConfiguration.SuperAdmin, users: any UserStore, hasher: PasswordHasher, clock: Clock
    ) async throws -> Outcome {
        guard settings.createAdminAccount else { return .disabled }
        if let existing = try await users.user(named: settings.username) {
            guard let password = settings.password,
                await !hasher.verify(password, against: existing.passwordHash)
            else { return .unchanged }
            _ = try await users.updatePasswordHash(username: settings.username, passwordHash: try await hasher.hash(password))
            return .passwordUpdated
        }
        let password = settings.password ?? ClientSecret.generate()
        let user = User(username: settings.username, passwordHash: try await hasher.hash(password), createdAt: clock.now())
        do {
            try await users.createUser(user)
        } catch StoreError.alreadyExists {
            return .unchanged  // another process sharing the database created it first
        }
        return settings.password == nil ? .createdWithGeneratedPassword(password) : .created
    }
}
