import ServiceLifecycle
import TokenAuthority

/// Runs beside the HTTP server until graceful shutdown: the store's upkeep
/// (`TokenDatabase.maintain`: SQLite's WAL checkpoints) and the client cache's
/// following of changes the store announces (`ClientCache.run`: PostgreSQL's
/// `NOTIFY`).
struct StoreMaintenanceService: Service {
    let store: any TokenDatabase
    let clients: ClientCache

    func run() async throws {
        await cancelWhenGracefulShutdown {
            async let upkeep: Void = store.maintain()
            async let following: Void = clients.run()
            _ = await (upkeep, following)
        }
        // A store with neither (SQLite has no announcements, PostgreSQL no upkeep)
        // returns at once; the service lives on until shutdown all the same, as a
        // service group ends when any of its services does.
        try? await gracefulShutdown()
    }
}
