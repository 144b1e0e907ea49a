import Testing
import TokenAuthorityTesting

/// The store conformance suite (docs/storage.md) on a fresh PostgreSQL database per check.
@Suite("Store conformance: PostgreSQL", .enabled(if: PostgresTestDatabase.isConfigured))
struct PostgresConformanceTests {
    @Test(arguments: StoreConformance.checks)
    func conforms(_ check: StoreCheck) async throws {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            try await check.run(on: PostgresHarness(settings: settings))
        }
    }
}
