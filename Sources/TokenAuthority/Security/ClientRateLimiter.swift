import Synchronization

/// `[security.client_limits]`: a token bucket per authenticated client on the
/// token and introspection endpoints. Only clients that authenticated spend
/// from a bucket, so nobody can use up another client's allowance, and the
/// buckets are as many as the registered clients.
///
/// Per process: a limit protects this server's capacity, which is what a
/// process has; it is no invariant of the data, so it needs no database.
public final class ClientRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: EpochMilliseconds
    }

    /// Requests per millisecond.
    private let rate: Double
    private let capacity: Double
    private let clock: Clock
    /// Keyed by the id's bytes: ids that differ only in Unicode normalization are other clients.
    private let buckets = Mutex<[[UInt8]: Bucket]>([:])

    /// `nil` when the limits are off (`requests_per_second = 0`).
    public init?(limits: SecuritySettings.ClientLimits, clock: Clock) {
        guard limits.requestsPerSecond > 0 else { return nil }
        rate = Double(limits.requestsPerSecond) / 1000
        capacity = Double(limits.burst > 0 ? limits.burst : limits.requestsPerSecond)
        self.clock = clock
    }

    /// Takes one request from the client's bucket, or throws 429 with the
    /// seconds until the bucket holds one again.
    public func admit(_ clientID: String) throws(OAuthError) {
        let now = clock.now()
        let key = Array(clientID.utf8)
        let waitMilliseconds: Double? = buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updatedAt: now)
            bucket.tokens = min(capacity, bucket.tokens + Double(max(0, now - bucket.updatedAt)) * rate)
            bucket.updatedAt = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
        if let waitMilliseconds {
            throw OAuthError.tooManyRequests(
                "The client has sent too many requests; retry later.", retryAfter: Int((waitMilliseconds / 1000).rounded(.up)))
        }
    }
}
