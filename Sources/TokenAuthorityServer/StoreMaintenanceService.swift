import ServiceLifecycle
import TokenAuthority

/// Runs the store's upkeep (`TokenDatabase.maintain`: SQLite's WAL checkpoints)
/// beside the HTTP server until graceful shutdown.
struct StoreMaintenanceService: Service {
    let store: any TokenDatabase

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await store.maintain()
        }
        // A store with no upkeep (PostgreSQL) returns at once; the service lives on until
        // shutdown all the same, as a service group ends when any of its services does.
        try? await gracefulShutdown()
    }
}
