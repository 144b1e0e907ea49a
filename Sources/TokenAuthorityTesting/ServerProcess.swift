import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A harness for end-to-end tests: the real `token-authority` executable, run as a
// child process in a throw-away folder, as an operator would run it.
//
// Every process writes its stdout and stderr to files in that folder rather than
// to pipes: nothing can block on a full pipe, no pipe end leaks into a sibling
// process, and the files stay readable while the process runs.

/// How a finished process exited and what it printed.
public struct CommandResult: Sendable, CustomStringConvertible {
    /// The exit code; a process killed by a signal reports 128 + the signal's number, as a shell does.
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String { "exit status \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// A harness failure (not a product behaviour under test).
public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A throw-away folder holding a `deployment.toml`. It is the working directory of
/// every command and server a test runs on it, so the config's relative paths
/// (`data/token-authority.sqlite3`, the key file) land inside it.
public struct Deployment: Sendable {
    public let directory: TemporaryDirectory

    public var configPath: String { directory.file("deployment.toml") }
    /// Where the test configs put the database (`[database] path`).
    public var databasePath: String { directory.file("data/token-authority.sqlite3") }

    public init(config: String) throws {
        directory = try TemporaryDirectory(prefix: "token-authority-e2e")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    public func remove() { directory.remove() }

    /// Runs `token-authority ARGUMENTS --config deployment.toml` (the option goes before a
    /// `--` separator, if any); `stdin` is its whole standard input.
    public func run(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws
        -> CommandResult
    {
        var arguments = arguments
        arguments.insert(contentsOf: ["--config", configPath], at: arguments.firstIndex(of: "--") ?? arguments.endIndex)
        return try await runProgram(ServerProcess.executable, arguments, stdin: stdin, timeout: timeout)
    }

    /// Runs `sqlite3` on the database and returns its output, trimmed; a failure throws.
    /// Like the servers, it waits for other connections' locks rather than failing at once.
    public func sqlite(_ sql: String) async throws -> String {
        let result = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), ["-bail", "-cmd", ".timeout 30000", databasePath, sql], stdin: nil,
            timeout: .seconds(60))
        guard result.status == 0 else { throw HarnessError("sqlite3 \(sql)\n\(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts `token-authority serve` on this deployment and waits for its "listening on" line.
    /// - Parameter environment: variables added to the inherited environment (`LOG_LEVEL`, ...).
    public func startServer(timeout: Duration = .seconds(30), environment: [String: String] = [:]) async throws
        -> ServerProcess
    {
        try await ServerProcess.start(on: self, timeout: timeout, environment: environment)
    }

    /// Runs `body` with a fresh deployment, which is removed afterwards whatever happens.
    public static func with<Result>(
        config: String, _ body: (Deployment) async throws -> Result
    ) async throws -> Result {
        let deployment = try Deployment(config: config)
        defer { deployment.remove() }
        return try await body(deployment)
    }

    /// Runs `body` with a server on a fresh deployment; the server is stopped and the
    /// folder removed afterwards, whether `body` succeeds or fails.
    public static func withServer<Result>(
        config: String, _ body: (ServerProcess) async throws -> Result
    ) async throws -> Result {
        try await with(config: config) { deployment in try await deployment.withServer(body) }
    }

    /// Runs `body` with a server on this deployment, stopped afterwards whether `body`
    /// succeeds or fails; the folder stays, so a test can start another server on it.
    /// - Parameter environment: variables added to the server's inherited environment.
    public func withServer<Result>(
        environment: [String: String] = [:], _ body: (ServerProcess) async throws -> Result
    ) async throws -> Result {
        let server = try await startServer(environment: environment)
        do {
            let result = try await body(server)
            await server.stopOrKill()
            return result
        } catch {
            await server.stopOrKill()
            throw error
        }
    }

    // MARK: - Processes

    /// Launches a process in the deployment's folder, its output going to two fresh files there.
    fileprivate func launch(
        _ executable: URL, _ arguments: [String], stdin: String?, environment: [String: String]? = nil
    ) throws -> (process: Process, stdoutPath: String, stderrPath: String) {
        let name = "\(executable.lastPathComponent)-\(UUID().uuidString.prefix(8))"
        let outputs = directory.file(".processes")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let stdoutPath = "\(outputs)/\(name).stdout"
        let stderrPath = "\(outputs)/\(name).stderr"
        let stdinPath = "\(outputs)/\(name).stdin"
        for path in [stdoutPath, stderrPath] {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw HarnessError("cannot create \(path)") }
        }
        try (stdin ?? "").write(toFile: stdinPath, atomically: false, encoding: .utf8)
        guard let output = FileHandle(forWritingAtPath: stdoutPath), let errors = FileHandle(forWritingAtPath: stderrPath),
            let input = FileHandle(forReadingAtPath: stdinPath)
        else { throw HarnessError("cannot open the output files of \(name)") }
        defer {
            // The child has its own copies now.
            try? output.close()
            try? errors.close()
            try? input.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        if let environment { process.environment = environment }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        return (process, stdoutPath, stderrPath)
    }

    /// Runs a program (`curl`, `openssl`, ...) in the deployment's folder to its end; it is
    /// killed after `timeout`, which then throws. `environment` replaces the inherited one.
    public func runProgram(
        _ executable: URL, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> CommandResult {
        let (process, stdoutPath, stderrPath) = try launch(executable, arguments, stdin: stdin, environment: environment)
        guard await waitForExit(process, timeout: timeout) else {
            kill(process.processIdentifier, SIGKILL)
            _ = await waitForExit(process, timeout: .seconds(5))
            throw HarnessError(
                "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(timeout)\n"
                    + "stderr: \(readText(stderrPath))")
        }
        return CommandResult(status: exitStatus(process), stdout: readText(stdoutPath), stderr: readText(stderrPath))
    }
}

/// A running `token-authority serve`. Stop it with `stop()`; a server dropped while
/// still running is killed.
public final class ServerProcess: Sendable {
    public let deployment: Deployment
    /// The port the server reported in its "listening on" line.
    public let port: Int
    /// `https` or `http`, as the "listening on" line says.
    public let scheme: String
    public var usesTLS: Bool { scheme == "https" }
    private let process: Process
    private let stdoutPath: String
    private let stderrPath: String

    private init(
        deployment: Deployment, port: Int, scheme: String, process: Process, stdoutPath: String, stderrPath: String
    ) {
        self.deployment = deployment
        self.port = port
        self.scheme = scheme
        self.process = process
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The `token-authority` executable: `$TOKEN_AUTHORITY_BIN`, else the one built beside
    /// the test binary (`.build/<triple>/debug/`), else `.build/debug/` of this checkout.
    public static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["TOKEN_AUTHORITY_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        for _ in 0..<4 {  // on macOS the test binary sits inside a .xctest bundle
            let candidate = folder.appendingPathComponent("token-authority")
            if isExecutableFile(candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.appendingPathComponent(".build/debug/token-authority")
    }()

    /// Everything the server has written to stderr so far (its log).
    public var standardError: String { readText(stderrPath) }
    /// Everything the server has written to stdout so far.
    public var standardOutput: String { readText(stdoutPath) }
    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Runs a CLI command against the server's deployment (same config and database).
    public func run(_ arguments: [String], stdin: String? = nil) async throws -> CommandResult {
        try await deployment.run(arguments, stdin: stdin)
    }

    /// Sends `signal` and waits for the process to end.
    /// - Returns: its exit status (128 + the signal's number when a signal ended it).
    /// - Throws: when it is still running after `timeout` (it is then killed).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async throws -> Int32 {
        send(signal)
        return try await awaitExit(timeout: timeout)
    }

    /// Sends `signal` to the server, if it is still running, and returns at once.
    public func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to end.
    /// - Returns: its exit status (128 + the signal's number when a signal ended it).
    /// - Throws: when it is still running after `timeout` (it is then killed).
    public func awaitExit(timeout: Duration) async throws -> Int32 {
        guard await waitForExit(process, timeout: timeout) else {
            kill(process.processIdentifier, SIGKILL)
            _ = await waitForExit(process, timeout: .seconds(5))
            throw HarnessError("the server did not exit within \(timeout)")
        }
        return exitStatus(process)
    }

    /// Stops the server for cleanup: SIGTERM, then SIGKILL if it lingers; never throws.
    public func stopOrKill() async {
        _ = try? await stop()
    }

    fileprivate static func start(
        on deployment: Deployment, timeout: Duration, environment: [String: String]
    ) async throws -> ServerProcess {
        let (process, stdoutPath, stderrPath) = try deployment.launch(
            executable, ["serve", "--config", deployment.configPath], stdin: nil,
            environment: environment.isEmpty
                ? nil : ProcessInfo.processInfo.environment.merging(environment) { _, added in added })
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            // "token-authority listening on https://HOST:PORT" (http:// with TLS disabled)
            if let line = readText(stdoutPath).split(separator: "\n").first(where: { $0.contains("listening on http") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                return ServerProcess(
                    deployment: deployment, port: port, scheme: line.contains("https://") ? "https" : "http",
                    process: process, stdoutPath: stdoutPath, stderrPath: stderrPath)
            }
            let failure: String?
            if !process.isRunning {
                failure = "the server exited with status \(exitStatus(process)) before listening"
            } else if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                _ = await waitForExit(process, timeout: .seconds(5))
                failure = "the server did not print its \"listening on\" line within \(timeout)"
            } else {
                failure = nil
            }
            if let failure {
                throw HarnessError("\(failure)\nstdout: \(readText(stdoutPath))\nstderr: \(readText(stderrPath))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

// MARK: - Helpers

/// Polls until `process` has exited; false if it is still running after `timeout`.
private func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while process.isRunning {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}

private func exitStatus(_ process: Process) -> Int32 {
    process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
}

private func readText(_ path: String) -> String {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
}

private func isExecutableFile(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        && FileManager.default.isExecutableFile(atPath: path)
}
