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
    }
}
