import Crypto
import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers of the fault suite (FaultTests.swift): a file system of its own under a
// deployment's `data/` folder, the faults put on it, and the database's invariants
// read with sqlite3 the way an operator would check them after an incident.

// MARK: - System tools

enum FaultTools {
    /// The path of a system tool, or nil when this machine has none.
    static func path(of tool: String) -> String? {
        ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map { "\($0)/\(tool)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a system tool (`mount`, `chattr`, ...) to its end, synchronously, so that
    /// cleanup can run it from a `defer`. Its stdout and stderr come back together.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> (status: Int32, output: String) {
        guard let path = path(of: tool) else { return (127, "\(tool): not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (126, "\(tool): \(error)")
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Runs a tool that must succeed.
    static func require(_ tool: String, _ arguments: [String]) throws {
        let result = run(tool, arguments)
        guard result.status == 0 else {
            throw HarnessError("\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
    }
}

// MARK: - A data volume

/// A file system of its own mounted over a deployment's `data/` folder, where the
/// test configs put the database, its WAL and shared-memory files and the key file.
/// The server's logs stay in the deployment folder, on the ordinary disk.
final class DataVolume: Sendable {
    enum Kind: Sendable, CustomStringConvertible {
        /// A tmpfs of that many MiB: full means ENOSPC at once (no delayed allocation).
        case tmpfs(megabytes: Int)
        /// ext4 on a loop device: it honours the immutable attribute on open files (see `makeReadOnly`).
        case ext4(megabytes: Int)

        var description: String {
            switch self {
            case .tmpfs(let size): "tmpfs of \(size) MiB"
            case .ext4(let size): "ext4 of \(size) MiB on a loop device"
            }
        }
    }

    let mountPoint: String
    private let image: String?

    private init(mountPoint: String, image: String?) {
        self.mountPoint = mountPoint
        self.image = image
    }

    func file(_ name: String) -> String { "\(mountPoint)/\(name)" }

    /// Mounts a fresh volume of `kind` on `folder` (created if missing; it should be empty).
    static func mount(_ kind: Kind, on folder: String, imageFolder: String) throws -> DataVolume {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch kind {
        case .tmpfs(let size):
            try FaultTools.require("mount", ["-t", "tmpfs", "-o", "size=\(size)m,mode=0700", "tmpfs", folder])
            return DataVolume(mountPoint: folder, image: nil)
        case .ext4(let size):
            let image = "\(imageFolder)/data-volume-\(UUID().uuidString.prefix(8)).img"
            try FaultTools.require("truncate", ["-s", "\(size)M", image])
            try FaultTools.require("mkfs.ext4", ["-q", "-F", image])
            do {
                // A loop device set to clear itself when the file system is unmounted.
                try FaultTools.require("mount", ["-o", "loop", image, folder])
            } catch {
                try? FileManager.default.removeItem(atPath: image)
                throw error
            }
            return DataVolume(mountPoint: folder, image: image)
        }
    }

    /// Unmounts; lazily (`umount -l`) if something still holds the file system, so a
    /// failed test never leaves a mount behind. Never throws.
    func unmount() {
        // No file of the volume may stay immutable, or the folder could not be removed afterwards.
        if image != nil, let names = try? FileManager.default.contentsOfDirectory(atPath: mountPoint) {
            for name in names { FaultTools.run("chattr", ["-i", file(name)]) }
        }
        if FaultTools.run("umount", [mountPoint]).status != 0 {
            FaultTools.run("umount", ["-l", mountPoint])
        }
        if let image { try? FileManager.default.removeItem(atPath: image) }
    }

    // MARK: Faults

    /// Makes `files` read-only for every process, root included, as a read-only
    /// volume does: the immutable attribute (`chattr +i`). Unlike a read-only remount,
    /// which Linux refuses with EBUSY while a process holds a file open for writing
    /// (as the server holds its database), it also applies to descriptors already open:
    /// ext4 then fails their writes with EPERM, recoverably.
    func makeReadOnly(_ files: [String]) throws {
        for name in files { try FaultTools.require("chattr", ["+i", file(name)]) }
    }

    func makeWritable(_ files: [String]) throws {
        for name in files { try FaultTools.require("chattr", ["-i", file(name)]) }
    }

    /// Fills the volume up with a file named `name`, until writing fails with ENOSPC.
    /// - Returns: the bytes written.
    @discardableResult
    func fill(with name: String) throws -> Int {
        let path = file(name)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw HarnessError("cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        var written = 0
        // Big chunks first, then smaller ones, so that not even one page stays free.
        for chunkSize in [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1] {
            let chunk = [UInt8](repeating: 0xA5, count: chunkSize)
            while true {
                let count = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, chunkSize) }
                if count > 0 {
                    written += count
                    continue
                }
                guard errno == ENOSPC else { throw HarnessError("writing \(path) failed: errno \(errno)") }
                break
            }
        }
        return written
    }

    /// Frees the space `fill(with:)` took.
    func removeFile(_ name: String) throws {
        try FileManager.default.removeItem(atPath: file(name))
    }
}

extension Deployment {
    /// The folder the test configs put the database and key file in.
    var dataFolder: String { directory.file("data") }

    /// Runs `body` with a fresh volume of `kind` mounted on `data/` (before any server
    /// created its files), and unmounts it afterwards whatever happens. Stop every
    /// server of the deployment inside `body`.
    func withDataVolume<Result>(_ kind: DataVolume.Kind, _ body: (DataVolume) async throws -> Result) async throws
        -> Result
    {
        let volume = try DataVolume.mount(kind, on: dataFolder, imageFolder: directory.path)
        defer { volume.unmount() }
        return try await body(volume)
    }
}

// MARK: - Whether this machine can put faults on a file system

/// The fault tests that mount file systems need root (CAP_SYS_ADMIN) and, for ext4,
/// loop devices; a container without them skips those tests. Each probe mounts a
/// volume of that kind once, and checks the behaviour the tests rely on.
enum FaultEnvironment {
    /// Why a tmpfs cannot be mounted here, or nil when it can.
    static let tmpfsProblem: String? = probe { folder in
        try DataVolume.mount(.tmpfs(megabytes: 1), on: "\(folder)/mnt", imageFolder: folder).unmount()
    }

    /// Why an ext4 volume on a loop device cannot serve as a read-only fault here, or nil.
    static let ext4Problem: String? = probe { folder in
        for tool in ["truncate", "mkfs.ext4", "chattr"] where FaultTools.path(of: tool) == nil {
            throw HarnessError("\(tool) is not installed")
        }
        let volume = try DataVolume.mount(.ext4(megabytes: 8), on: "\(folder)/mnt", imageFolder: folder)
        defer { volume.unmount() }
        // A descriptor opened before `chattr +i` must fail its next write.
        let descriptor = open(volume.file("probe"), O_WRONLY | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw HarnessError("cannot create a file on the volume") }
        defer { close(descriptor) }
        try volume.makeReadOnly(["probe"])
        let written = write(descriptor, "x", 1)
        try volume.makeWritable(["probe"])
        guard written < 0 else { throw HarnessError("chattr +i does not stop writes on an open file here") }
    }

    static var canMountTmpfs: Bool { tmpfsProblem == nil }
    static var canMountExt4: Bool { ext4Problem == nil }

    private static func probe(_ body: (String) throws -> Void) -> String? {
        guard geteuid() == 0 else { return "mount(2) needs root" }
        guard FaultTools.path(of: "mount") != nil, FaultTools.path(of: "umount") != nil else {
            return "mount/umount are not installed"
        }
        do {
            let folder = try TemporaryDirectory(prefix: "token-authority-fault-probe")
            defer { folder.remove() }
            try body(folder.path)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

// MARK: - The database as sqlite3 sees it

extension Deployment {
    /// Runs `sql` (given on standard input, so it may be long) with sqlite3 and returns
    /// its output, trimmed. `readOnly` opens the file read-only, so that sqlite3 never
    /// checkpoints or removes the WAL a crashed server left for the next one to recover.
    func sqliteScript(_ sql: String, readOnly: Bool) async throws -> String {
        var arguments = ["-bail", "-cmd", ".timeout 30000"]
        if readOnly { arguments.insert("-readonly", at: 0) }
        let result = try await runProgram(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), arguments + [databasePath], stdin: sql, timeout: .seconds(60))
        guard result.status == 0 else { throw HarnessError("sqlite3 failed: \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What is wrong with the database, in words; empty when nothing is:
    /// - `PRAGMA integrity_check` is not ok, or `PRAGMA foreign_key_check` finds rows;
    /// - a key has more than one ACTIVE access token, or more than one ACTIVE refresh token;
    /// - an ACTIVE user access token lacks its ACTIVE refresh token (half of a pair written);
    /// - an ACTIVE refresh token is the refresh token of no ACTIVE access token;
    /// - with `newestActive`, the newest access row of a key is not its ACTIVE one. In
    ///   renewal mode, where nothing is revoked explicitly, only a newer row on the same
    ///   key retires a token, so this shows an issuance committed in part.
    func consistencyProblems(readOnly: Bool, newestActive: Bool = true) async throws -> [String] {
        let checks: [(String, String)] = [
            ("integrity_check", "SELECT group_concat(integrity_check, '; ') FROM pragma_integrity_check"),
            ("foreign_key_check rows", "SELECT count(*) FROM pragma_foreign_key_check"),
            (
                "keys with more than one ACTIVE access token",
                """
                SELECT count(*) FROM (SELECT 1 FROM access_tokens WHERE state = 'ACTIVE'
                    GROUP BY client_id, subject_type, subject, scope HAVING count(*) > 1)
                """
            ),
            (
                "keys with more than one ACTIVE refresh token",
                """
                SELECT count(*) FROM (SELECT 1 FROM refresh_tokens WHERE state = 'ACTIVE'
                    GROUP BY client_id, subject_type, subject, scope HAVING count(*) > 1)
                """
            ),
            (
                "ACTIVE user access tokens without an ACTIVE refresh token",
                """
                SELECT count(*) FROM access_tokens a LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
                WHERE a.state = 'ACTIVE' AND a.subject_type = 'user' AND (r.id IS NULL OR r.state <> 'ACTIVE')
                """
            ),
            (
                "ACTIVE refresh tokens of no ACTIVE access token",
                """
                SELECT count(*) FROM refresh_tokens r WHERE r.state = 'ACTIVE' AND NOT EXISTS
                    (SELECT 1 FROM access_tokens a WHERE a.refresh_token_id = r.id AND a.state = 'ACTIVE')
                """
            ),
        ]
        var all = checks
        if newestActive {
            all.append(
                (
                    "keys whose newest access token is not ACTIVE",
                    """
                    SELECT count(*) FROM access_tokens a WHERE a.state <> 'ACTIVE' AND a.id = (SELECT max(b.id)
                        FROM access_tokens b WHERE b.client_id = a.client_id AND b.subject_type = a.subject_type
                        AND b.subject = a.subject AND b.scope = a.scope)
                    """
                ))
        }
        let select = "SELECT " + all.map { "(\($0.1))" }.joined(separator: ",\n") + ";"
        let output = try await sqliteScript(select, readOnly: readOnly)
        let values = output.components(separatedBy: "|")
        guard values.count == all.count else { return ["sqlite3 answered \(output)"] }
        var problems: [String] = []
        for ((name, _), value) in zip(all, values) {
            let expected = name == "integrity_check" ? "ok" : "0"
            if value != expected { problems.append("\(name): \(value)") }
        }
        return problems
    }

    /// The state of every token row, by the hex SHA-256 of its token (docs/storage.md: tokens are
    /// looked up by their hash), so a test can find the tokens it was given without
    /// printing them. `table` is `access_tokens` or `refresh_tokens`.
    func tokenStates(in table: String, readOnly: Bool) async throws -> [String: String] {
        let output = try await sqliteScript(
            "SELECT lower(hex(token_sha256)), state FROM \(table);", readOnly: readOnly)
        var states: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "|")
            if fields.count == 2 { states[String(fields[0])] = String(fields[1]) }
        }
        return states
    }

    /// Row counts of both token tables, to show that a failed request wrote nothing.
    func tokenRowCounts(readOnly: Bool) async throws -> String {
        try await sqliteScript(
            "SELECT (SELECT count(*) FROM access_tokens) || ' access, ' || (SELECT count(*) FROM refresh_tokens) || ' refresh';",
            readOnly: readOnly)
    }
}

/// The hex of a token's row key, `token_sha256` (docs/storage.md, "Secrets at rest"): the 6 bytes
/// of time a token of 35 base64url characters begins with, then the first 26 bytes of its SHA-256.
/// Worked out here from the documentation, not by the server's code.
func tokenDigest(_ token: String) -> String {
    let digest = Array(SHA256.hash(data: Array(token.utf8)))
    var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += "="
    guard token.utf8.count == 35, let bytes = Data(base64Encoded: base64) else {
        return digest.map { String(format: "%02x", $0) }.joined()
    }
    return (Array(bytes.prefix(6)) + digest.prefix(26)).map { String(format: "%02x", $0) }.joined()
}

// MARK: - Requests the fault tests send

extension ServerProcess {
    /// `grant_type=refresh_token`, with HTTP Basic client authentication.
    func refreshTokenGrant(_ client: ClientKeys, refreshToken: String) async throws -> HTTPReply {
        try await postToken(Form.encode([("grant_type", "refresh_token"), ("refresh_token", refreshToken)]), client: client)
    }

    /// `POST /oauth2/introspect` for `token`, authenticated as `caller` (a client created with --introspection).
    func introspection(of token: String, as caller: ClientKeys) async throws -> HTTPReply {
        try await request(
            .post, "/oauth2/introspect",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: Form.basic(id: caller.id, secret: caller.secret),
            ],
            body: Array(Form.encode([("token", token)]).utf8))
    }
}

extension HTTPReply {
    /// README, "Faults", for a fault outside the request: 503, JSON `server_error`, `Retry-After`,
    /// never cached (`Cache-Control: no-store`, `Pragma: no-cache`).
    var isServiceUnavailable: Bool {
        status == 503 && string("error") == "server_error" && header("Cache-Control") == "no-store"
            && header("Pragma") == "no-cache" && header("Retry-After").flatMap(Int.init).map { $0 > 0 } == true
    }
}

// MARK: - Expectations that never print a token

// `#expect(reply.status == 200)` would show the whole reply, body and tokens included,
// when it fails: these compare plain values and describe a reply by its status and
// error code only.

func expectStatus(
    _ reply: HTTPReply, _ expected: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let status = reply.status
    #expect(status == expected, "\(what): \(reply)", sourceLocation: sourceLocation)
}

func expectServiceUnavailable(_ reply: HTTPReply, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let unavailable = reply.isServiceUnavailable
    #expect(
        unavailable,
        "\(what): \(reply), Retry-After \(reply.header("Retry-After") ?? "absent"), Cache-Control \(reply.header("Cache-Control") ?? "absent"), Pragma \(reply.header("Pragma") ?? "absent")",
        sourceLocation: sourceLocation)
}

/// Expects an introspection answer of 200 with `"active": expected`.
func expectIntrospection(
    _ reply: HTTPReply, active expected: Bool, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let status = reply.status
    let active = reply["active"]?.bool
    #expect(status == 200 && active == expected, "\(what): \(reply), active \(active.map(String.init) ?? "absent")",
        sourceLocation: sourceLocation)
}

/// Expects `text` (a server log) to hold none of `secrets`, naming none of them.
func expectNoSecret(in text: String, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let leaked = secrets.filter { !$0.isEmpty && text.contains($0) }.count
    #expect(leaked == 0, "the server log holds \(leaked) secrets", sourceLocation: sourceLocation)
}

/// With `FAULT_TESTS_OBSERVE=1` in the environment, the fault tests describe what each
/// fault produced (statuses, counts, the server's log lines about the database) on
/// stderr: material for an incident write-up. Silent otherwise.
func observeFault(_ message: String) {
    guard ProcessInfo.processInfo.environment["FAULT_TESTS_OBSERVE"] == "1" else { return }
    FileHandle.standardError.write(Data("[fault] \(message)\n".utf8))
}

/// The server's log lines that mention the database, for `observeFault`.
func databaseLogLines(of server: ServerProcess) -> String {
    server.standardError.split(separator: "\n").filter { $0.localizedCaseInsensitiveContains("database") }
        .map { "    " + $0 }.joined(separator: "\n")
}
