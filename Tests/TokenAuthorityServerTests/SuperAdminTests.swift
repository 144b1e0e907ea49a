import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// `[super_admin]` (README, "Configuration: `deployment.toml`"): the seeds' admin/admin, a user of
/// the password grant; `deployment.toml` is the source of truth for its password when it sets one.
@Suite("Super admin account")
struct SuperAdminTests {
    /// Opens services over `directory` without creating the super admin.
    private func openServices(
        in directory: TemporaryDirectory, clock: ManualClock = ManualClock(),
        _ adjust: (inout DeploymentConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let services = try await TokenAuthorityServices.open(
            configuration: Fixtures.configuration(in: directory, adjust), clock: clock.clock,
            passwordHasher: Fixtures.cheapPasswordHasher)
        return TestServer(directory: directory, clock: clock, services: services)
    }

    private func userCount(_ server: TestServer, _ username: String) async throws -> Int {
        try await server.count("SELECT count(*) FROM users WHERE username = ?", [username])
    }

    @Test("ensureSuperAdmin creates admin/admin, usable by the password grant")
    func createsAdmin() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Given a fresh database configured with super_admin.password = "admin"
        let server = try await openServices(in: directory)
        #expect(try await userCount(server, "admin") == 0)

        // When the super admin is ensured
        let outcome = try await server.services.ensureSuperAdmin()

        // Then admin exists, stored hashed, and admin/admin gets a token
        #expect(outcome == .created)
        #expect(try await userCount(server, "admin") == 1)
        #expect(try await server.count("SELECT count(*) FROM users WHERE password_hash LIKE '%admin%'") == 0)
        let client = try await server.client("app")
        let reply = try await server.passwordGrant(client, username: "admin", password: "admin")
        expectTokenResponse(reply, withRefreshToken: true)

        // And ensuring it again changes nothing
        #expect(try await server.services.ensureSuperAdmin() == .unchanged)
    }

    @Test("create_admin_account = false: there is no such user")
    func disabled() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Given create_admin_account = false
        let server = try await openServices(in: directory) { $0.superAdmin.createAdminAccount = false }

        // When the super admin is ensured
        let outcome = try await server.services.ensureSuperAdmin()

        // Then no user exists and admin/admin is refused
        #expect(outcome == .disabled)
        #expect(try await server.count("SELECT count(*) FROM users") == 0)
        let client = try await server.client("app")
        let reply = try await server.passwordGrant(client, username: "admin", password: "admin")
        expectOAuthError(reply, status: 400, error: "invalid_grant", description: "Authentication failed for admin")
    }

    @Test("a changed configured password updates the account")
    func passwordChangeInConfiguration() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Given admin created with the password "admin"
        let before = try await openServices(in: directory)
        #expect(try await before.services.ensureSuperAdmin() == .created)
        let client = try await before.client("app")

        // When the server restarts with super_admin.password = "n3w-passw0rd"
        let after = try await openServices(in: directory) { $0.superAdmin.password = "n3w-passw0rd" }
        let outcome = try await after.services.ensureSuperAdmin()

        // Then the password is updated: the new one works and the old one no longer does
        #expect(outcome == .passwordUpdated)
        #expect(try await userCount(after, "admin") == 1)
        let withNew = try await after.passwordGrant(client, username: "admin", password: "n3w-passw0rd")
        let withOld = try await after.passwordGrant(client, username: "admin", password: "admin")
        expectTokenResponse(withNew, withRefreshToken: true)
        expectOAuthError(withOld, status: 400, error: "invalid_grant", description: "Authentication failed for admin")
        // And a further start with the same configuration changes nothing
        #expect(try await after.services.ensureSuperAdmin() == .unchanged)
    }

    @Test("no configured password: one is generated once, and kept on later starts")
    func generatedPassword() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Given no super_admin.password
        let server = try await openServices(in: directory) { $0.superAdmin.password = nil }

        // When the super admin is ensured twice
        let first = try await server.services.ensureSuperAdmin()
        let second = try await server.services.ensureSuperAdmin()

        // Then a high-entropy password was generated the first time and still works
        guard case .createdWithGeneratedPassword(let password) = first else {
            Issue.record("expected a generated password, got \(first)")
            return
        }
        #expect(password.count >= 20)
        #expect(second == .unchanged)
        let client = try await server.client("app")
        expectTokenResponse(
            try await server.passwordGrant(client, username: "admin", password: password), withRefreshToken: true)
        expectOAuthError(
            try await server.passwordGrant(client, username: "admin", password: "admin"), status: 400,
            error: "invalid_grant")
    }

    @Test("super_admin.username names the account")
    func customUsername() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Given super_admin.username = "root"
        let server = try await openServices(in: directory) { $0.superAdmin.username = "root" }

        // When the super admin is ensured
        _ = try await server.services.ensureSuperAdmin()

        // Then root/admin works and there is no admin
        #expect(try await userCount(server, "root") == 1)
        #expect(try await userCount(server, "admin") == 0)
        let client = try await server.client("app")
        expectTokenResponse(
            try await server.passwordGrant(client, username: "root", password: "admin"), withRefreshToken: true)
    }
}
