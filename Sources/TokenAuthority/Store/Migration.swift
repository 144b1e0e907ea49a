import Crypto

import Foundation

/// One numbered schema file, `NNNN_name.sql` (docs/storage.md, "Migrations").
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let fileName: String
    public let sql: String

    /// - Precondition: `fileName` starts with its four-digit version (checked by the tests
    ///   for the embedded list, and by `load(from:)` for files read at run time).
    public init(fileName: String, sql: String) {
        self.fileName = fileName
        self.sql = sql
        self.version = Int(fileName.prefix(4)) ?? 0
    }

    /// SHA-256 of the file's bytes, hex: what `schema_migrations.checksum` records.
    public var checksum: String {
        SHA256.hash(data: Array(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads `NNNN_*.sql` from a folder, in order: for running a build against a
    /// migrations folder other than the one compiled in.
    public static func load(from directory: String) throws -> [Migration] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MigrationError.folderMissing(directory)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        return try names.map { name in
            guard name.count > 5, Int(name.prefix(4)) != nil, name.dropFirst(4).first == "_" else {
                throw MigrationError.badFileName(name)
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
            guard let sql = String(data: data, encoding: .utf8) else { throw MigrationError.badFileName(name) }
            return Migration(fileName: name, sql: sql)
        }
    }
}

public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case folderMissing(String)
    case badFileName(String)
    case changedAfterApplied(fileName: String, recorded: String, found: String)
    case unknownApplied(version: Int, name: String)
    case duplicateVersion(Int)

    public var description: String {
        switch self {
        case .folderMissing(let path):
            "migrations folder not found: \(path)"
        case .badFileName(let name):
            "migration file \(name) is not named NNNN_name.sql in UTF-8"
        case .changedAfterApplied(let fileName, let recorded, let found):
            "migration \(fileName) was changed after it was applied (recorded checksum \(recorded), file has \(found)); "
                + "shipped migrations must never be edited: add a new numbered file instead"
        case .unknownApplied(let version, let name):
            "the database has migration \(version) (\(name)) applied, which this build does not know: is it an older build?"
        case .duplicateVersion(let version):
            "two migration files share the version \(version)"
        }
    }
}
