import Testing
import TokenAuthorityTesting

/// The store conformance suite (docs/storage.md) on a fresh SQLite file per check.
@Suite("Store conformance: SQLite")
struct SQLiteConformanceTests {
    @Test(arguments: StoreConformance.checks)
    func conforms(_ check: StoreCheck) async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        try await check.run(on: harness)
    }
}
