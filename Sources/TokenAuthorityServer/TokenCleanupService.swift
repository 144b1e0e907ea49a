import Foundation
import Logging
import Metrics
import ServiceLifecycle
import TokenAuthority

/// Deletes token rows no longer needed (README, "How tokens behave": Cleanup;
/// `[oauth.token_cleanup]`) beside the HTTP server until graceful shutdown: a first purge soon
/// after start, then one every `interval`.
///
/// `now` comes from the services' clock, and rows are kept for
/// `retain_inactive_tokens_for` after they left use (see
/// `TokenCleanupStore.purgeTokens`). A purge deletes in short batches, so requests
/// queued behind it wait milliseconds, not the whole purge. A failed purge (the
/// file busy with another process's long write, say) is logged and retried at
/// the next round; it never stops the server. With `enable = false` the service
/// only waits for shutdown: `token purge` remains for operators.
///
/// The interval is 60 s. The environment variable
/// `TOKEN_AUTHORITY_CLEANUP_INTERVAL` (seconds, fractions allowed) overrides it,
/// for experiments that watch the database's size under load with short
/// validities; it is not a configuration key because no deployment needs it.
struct TokenCleanupService: Service {
    static let defaultInterval: Duration = .seconds(60)
    /// The first purge waits this long (or the interval, if shorter) so that it
    /// does not compete with start-up.
    static let firstPurgeDelay: Duration = .seconds(2)

    static func registerMetrics() {
        _ = (deletedAccessTokens, deletedRefreshTokens, deletedSessions, deletedCodes, deletedDeviceRequests)
    }

    private static let deletedAccessTokens = Counter(
        label: "token_authority_cleanup_deleted_rows_total", dimensions: [("table", "access_tokens")])
    private static let deletedRefreshTokens = Counter(
        label: "token_authority_cleanup_deleted_rows_total", dimensions: [("table", "refresh_tokens")])
    private static let deletedSessions = Counter(
        label: "token_authority_cleanup_deleted_rows_total", dimensions: [("table", "sessions")])
    private static let deletedCodes = Counter(
        label: "token_authority_cleanup_deleted_rows_total", dimensions: [("table", "authorization_codes")])
    private static let deletedDeviceRequests = Counter(
        label: "token_authority_cleanup_deleted_rows_total", dimensions: [("table", "device_authorizations")])

    let store: any TokenDatabase
    let clock: TokenAuthority.Clock
    let settings: DeploymentConfiguration.TokenCleanup
    let interval: Duration
    let logger: Logger

    init(services: TokenAuthorityServices, logger: Logger, interval: Duration? = nil) {
        store = services.store
        clock = services.clock
        settings = services.configuration.tokenCleanup
        self.interval = interval ?? Self.intervalFromEnvironment() ?? Self.defaultInterval
        self.logger = logger
    }

    func run() async throws {
        guard settings.enable else {
            // Returning would end the whole service group: wait for shutdown instead.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            var delay = min(Self.firstPurgeDelay, interval)
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return
                }
                await purgeOnce()
                delay = interval
            }
        }
    }

    /// One purge; a failure is logged, never thrown.
    func purgeOnce() async {
        let started = ContinuousClock.now
        do {
            let deleted = try await store.purgeTokens(
                now: clock.now(), retainFor: EpochMilliseconds(settings.retainInactiveTokensFor) * 1000)
            Self.deletedAccessTokens.increment(by: deleted.accessTokens)
            Self.deletedRefreshTokens.increment(by: deleted.refreshTokens)
            Self.deletedSessions.increment(by: deleted.sessions)
            Self.deletedCodes.increment(by: deleted.authorizationCodes)
            Self.deletedDeviceRequests.increment(by: deleted.deviceAuthorizations)
            guard deleted.total > 0 else { return }
            logger.info(
                "token cleanup deleted rows no longer needed",
                metadata: [
                    "access_tokens": "\(deleted.accessTokens)", "refresh_tokens": "\(deleted.refreshTokens)",
                    "sessions": "\(deleted.sessions)", "authorization_codes": "\(deleted.authorizationCodes)",
                    "device_authorizations": "\(deleted.deviceAuthorizations)",
                    "duration": "\(ContinuousClock.now - started)",
                ])
        } catch where error is CancellationError || Task.isCancelled {
            // Graceful shutdown during a purge: the batches done are committed.
        } catch {
            // Database errors carry SQL, never statement arguments or token values.
            logger.error("token cleanup failed; retrying at the next round", metadata: ["error": "\(error)"])
        }
    }

    /// `TOKEN_AUTHORITY_CLEANUP_INTERVAL`, when it is a positive number of seconds.
    static func intervalFromEnvironment() -> Duration? {
        guard let text = ProcessInfo.processInfo.environment["TOKEN_AUTHORITY_CLEANUP_INTERVAL"],
            let seconds = Double(text), seconds > 0, seconds.isFinite
        else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
