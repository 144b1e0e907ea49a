import ServiceLifecycle
import TokenStoreSQLite

/// Runs `WALCheckpointer` beside the HTTP server until graceful shutdown.
struct CheckpointService: Service {
    let checkpointer: WALCheckpointer

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await checkpointer.run(every: .milliseconds(100))
        }
    }
}
