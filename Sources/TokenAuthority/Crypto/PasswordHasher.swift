import Crypto
import CryptoExtras
import Dispatch

import Foundation

/// User passwords: scrypt (RFC 7914), salted, stored as a PHC-style string that
/// carries its own parameters, `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`, so the cost
/// can be raised later without invalidating stored hashes.
///
/// Hashing is deliberately slow (tens of milliseconds, 32 MiB with the defaults),
/// so it runs on a small pool of its own threads, one per core: never on the
/// event loop or Swift's cooperative pool, and never more at once than the
/// machine has cores, which also bounds the memory in use.
public struct PasswordHasher: Sendable {
    public struct Cost: Sendable, Equatable {
        /// log2 of scrypt's N.
        public var logRounds: Int
        public var blockSize: Int
        public var parallelism: Int

        public init(logRounds: Int, blockSize: Int, parallelism: Int) {
            self.logRounds = logRounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB.
        public static let standard = Cost(logRounds: 15, blockSize: 8, parallelism: 1)
    }

    public var cost: Cost

    public init(cost: Cost = .standard) {
        self.cost = cost
        // A hash no password matches, at this hasher's cost: verified against when
        // a username is unknown, so that case takes as long as a wrong password.
        decoyHash = "$scrypt$ln=\(cost.logRounds),r=\(cost.blockSize),p=\(cost.parallelism)$"
            + "\(Data(repeating: 0, count: 16).base64EncodedString())$\(Data(repeating: 0, count: 32).base64EncodedString())"
    }

    public let decoyHash: String

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await Self.workers.run {
            let salt = secureRandomBytes(16)
            let derived = try Self.derive(password, salt: salt, cost: cost)
            return "$scrypt$ln=\(cost.logRounds),r=\(cost.blockSize),p=\(cost.parallelism)$"
                + "\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
        }
    }

    /// False for a wrong password and for a stored string this hasher cannot read.
    public func verify(_ password: String, against stored: String) async -> Bool {
        guard let parsed = ParsedHash(stored) else { return false }
        return (try? await Self.workers.run {
            let derived = try Self.derive(password, salt: parsed.salt, cost: parsed.cost)
            return constantTimeEquals(derived, parsed.hash)
        }) ?? false
    }

    private static func derive(_ password: String, salt: [UInt8], cost: Cost) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32,
            rounds: 1 << cost.logRounds, blockSize: cost.blockSize, parallelism: cost.parallelism)
        return key.withUnsafeBytes { Array($0) }
    }

    private static let workers = BlockingWorkers(count: max(1, ProcessInfo.processInfo.activeProcessorCount))
}

/// `$scrypt$ln=…,r=…,p=…$salt$hash`, with sane bounds on the parameters so a
/// tampered row cannot ask for gigabytes.
private struct ParsedHash {
    let cost: PasswordHasher.Cost
    let salt: [UInt8]
    let hash: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [String: Int] = [:]
        for field in parts[2].split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            values[String(pair[0])] = value
        }
        guard let ln = values["ln"], let r = values["r"], let p = values["p"],
            (1...20).contains(ln), (1...32).contains(r), (1...16).contains(p),
            let salt = Data(base64Encoded: String(parts[3])), let hash = Data(base64Encoded: String(parts[4]))
        else { return nil }
        self.cost = .init(logRounds: ln, blockSize: r, parallelism: p)
        self.salt = Array(salt)
        self.hash = Array(hash)
    }
}

/// A fixed set of serial queues for CPU-heavy blocking work, used round-robin.
final class BlockingWorkers: Sendable {
    private let queues: [DispatchQueue]
    private let next = AtomicCounter()

    init(count: Int) {
        queues = (0..<count).map { DispatchQueue(label: "token-authority.blocking.\($0)") }
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let queue = queues[next.increment() % queues.count]
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
