import Foundation
import TokenAuthority
import TokenAuthorityServer

/// Builders for tests: services over a throw-away database, clients and users.
public enum Fixtures {
    /// A scrypt cost low enough for tests (the real default is N = 2^15).
    public static let cheapPasswordHasher = PasswordHasher(cost: .init(logRounds: 4, blockSize: 8, parallelism: 1))

    /// A configuration whose database and key live in `directory`.
    public static func configuration(
        in directory: TemporaryDirectory, _ adjust: (inout DeploymentConfiguration) -> Void = { _ in }
    ) -> DeploymentConfiguration {
        var configuration = DeploymentConfiguration()
        configuration.server.hostname = "127.0.0.1"
        configuration.server.port = 0
        configuration.database.path = directory.file("token-authority.sqlite3")
        configuration.database.keyFile = directory.file("token-authority.key")
        configuration.superAdmin.password = "admin"
        adjust(&configuration)
        return configuration
    }

    /// Services over a fresh database in `directory`, with the super admin created.
    public static func services(
        in directory: TemporaryDirectory, clock: ManualClock = ManualClock(),
        _ adjust: (inout DeploymentConfiguration) -> Void = { _ in }
    ) async throws -> TokenAuthorityServices {
        let services = try await TokenAuthorityServices.open(
            configuration: configuration(in: directory, adjust), clock: clock.clock,
            passwordHasher: cheapPasswordHasher)
        _ = try await services.ensureSuperAdmin()
        _ = try await services.ensureSigningKey()
        return services
    }

    /// Registers a client and returns its credentials.
    @discardableResult
    public static func registerClient(
        in store: any ClientStore, id: String = "client-\(UUID().uuidString)",
        grantTypes: [GrantType] = GrantType.defaultForNewClients, scopes: Set<String>? = nil,
        mayIntrospect: Bool = false, tokenFormat: AccessTokenFormat = .opaque, redirectURIs: [String] = [],
        postLogoutRedirectURIs: [String] = [], isPublic: Bool = false
    ) async throws -> ClientCredentials {
        let secret = ClientSecret.generate()
        try await store.createClient(
            Client(
                clientID: id, name: id, secretDigest: ClientSecret.digest(secret), grantTypes: grantTypes,
                scopes: scopes, tokenFormat: tokenFormat, mayIntrospect: mayIntrospect, createdAt: 0,
                redirectURIs: redirectURIs, postLogoutRedirectURIs: postLogoutRedirectURIs, isPublic: isPublic))
        // A public client is known by its id alone.
        return ClientCredentials(clientID: id, secret: isPublic ? nil : secret)
    }

    /// Registers a user of the password grant, hashed with the cheap test cost.
    public static func registerUser(in store: any UserStore, username: String, password: String) async throws {
        let hash = try await cheapPasswordHasher.hash(password)
        try await store.createUser(User(username: username, passwordHash: hash, createdAt: 0))
    }
}
