import Foundation
import TokenAuthority

/// The AES-256 key that seals tokens at rest (docs/storage.md, "Secrets at rest"), kept in its own
/// file beside the database: a copy of the database file alone reveals no token.
public enum ServerKeyFile {
    /// Reads the key at `path`, creating it (mode 0600, 32 random bytes) when absent.
    /// Creation is atomic (a temporary file linked into place), so two processes
    /// starting at once on one data folder end up with the same key.
    public static func loadOrCreate(path: String) throws -> [UInt8] {
        if let existing = FileManager.default.contents(atPath: path) {
            return try validate(Array(existing), path: path)
        }
        let key = secureRandomBytes(32)
        if try !SecretFile.createExclusively(path: path, contents: key) {
            // Another process created it first: use theirs.
            guard let existing = FileManager.default.contents(atPath: path) else {
                throw KeyFileError(path: path, reason: "cannot read the file")
            }
            return try validate(Array(existing), path: path)
        }
        return key
    }

    private static func validate(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        guard bytes.count == 32 else {
            throw KeyFileError(path: path, reason: "expected 32 bytes, found \(bytes.count)")
        }
        return bytes
    }
}

public struct KeyFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "token encryption key file \(path): \(reason)" }
}
