import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sqlite3` on the deployment's database running `BEGIN IMMEDIATE`, waiting, then
/// `COMMIT`: another process holding the write lock, as a second server or an
/// operator's long write would. It holds the lock until the test calls `release()`
/// (or for 30 s at most), so a test decides when the lock goes, whatever the load on
/// the machine. Flag files carry both signals.
final class WriteLockHolder: Sendable {
    private let process: Process
    private let lockedFlag: String
    private let releaseFlag: String

    /// The longest sqlite3 holds the lock without `release()`: a test that fails before
    /// releasing it still ends.
    static let cap: Duration = .seconds(30)

    init(deployment: Deployment) throws {
        let folder = deployment.directory.file(".processes")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let name = "write-lock-\(UUID().uuidString.prefix(8))"
        lockedFlag = "\(folder)/\(name).locked"
        releaseFlag = "\(folder)/\(name).release"
        // The wait is a shell script of its own: sqlite3's `.shell` re-parses its arguments.
        let waitPath = "\(folder)/\(name).sh"
        let polls = Int(Self.cap.components.seconds) * 20
        let wait = """
            touch '\(lockedFlag)'
            i=0
            while [ ! -e '\(releaseFlag)' ] && [ "$i" -lt \(polls) ]; do sleep 0.05; i=$((i + 1)); done

            """
        try wait.write(toFile: waitPath, atomically: true, encoding: .utf8)
        let script = """
            .timeout 30000
            BEGIN IMMEDIATE;
            .shell sh '\(waitPath)'
            COMMIT;

            """
        let scriptPath = "\(folder)/\(name).sql"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-bail", deployment.databasePath]
        process.standardInput = FileHandle(forReadingAtPath: scriptPath)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until sqlite3 holds the lock.
    func waitUntilLocked(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !FileManager.default.fileExists(atPath: lockedFlag) {
            guard process.isRunning else { throw HarnessError("sqlite3 exited (\(process.terminationStatus)) before taking the lock") }
            guard ContinuousClock.now < deadline else { throw HarnessError("sqlite3 did not take the write lock within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Tells sqlite3 to commit and let the lock go (within 50 ms).
    func release() {
        _ = FileManager.default.createFile(atPath: releaseFlag, contents: nil)
    }

    /// Waits for sqlite3 to commit and exit; its exit status.
    func exitStatus(timeout: Duration = .seconds(10)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw HarnessError("sqlite3 still holds the lock after \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Kills sqlite3 if it is still running (cleanup after a failure).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

extension ServerProcess {
    /// Waits until `/metrics` counts more busy retries than `before`: a request is then
    /// waiting for the write lock that another process holds.
    func waitForBusyRetries(after before: Double, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await busyRetries() <= before {
            guard ContinuousClock.now < deadline else { throw HarnessError("no request waited for the write lock within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The busy retries `/metrics` has counted so far.
    func busyRetries() async throws -> Double {
        try await metric("token_authority_database_busy_retries_total")
    }
}
