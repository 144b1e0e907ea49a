import CoreMetrics

import Foundation

/// SQLite's busy handler: while another connection (or another process sharing
/// the file) holds the write lock, wait and retry, on SQLite's own schedule (the
/// delays of `sqlite3_busy_timeout`), for at most `AppDatabase.busyTimeout`.
/// Unlike the built-in timeout it counts its retries for `/metrics`.
enum BusyRetry {
    /// `sqlite3_busy_timeout`'s delays in milliseconds; the last one repeats.
    private static let delays: [Int] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100]
    static let retries = Counter(label: "token_authority_database_busy_retries_total")

    /// Sleeps before retry `numberOfTries` (0 first) and returns true, or returns
    /// false once the waits would pass `timeout`.
    static func shouldRetry(numberOfTries: Int, timeout: TimeInterval) -> Bool {
        let delay = delays[min(numberOfTries, delays.count - 1)]
        guard waited(beforeTry: numberOfTries) + delay <= Int(timeout * 1000) else { return false }
        retries.increment()
        usleep(useconds_t(delay * 1000))
        return true
    }

    /// Milliseconds slept before retry `tries`.
    static func waited(beforeTry tries: Int) -> Int {
        let head = delays.prefix(tries).reduce(0, +)
        return head + max(0, tries - delays.count) * delays[delays.count - 1]
    }
}
