import Foundation

/// Writes files that hold secrets: mode 0600 from the first byte, and atomic; and says when
/// an existing one is open to other users.
enum SecretFile {
    /// A warning naming `path` and its mode when it is a regular file (through any symbolic
    /// links, as a mounted secret often is) that users other than its owner have any access
    /// to; `nil` otherwise, or when there is no such file. Never reads the file.
    static func openToOthersWarning(_ path: String) -> String? {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        else { return nil }
        return "'\(path)' is open to other users (mode \(String(mode, radix: 8))): chmod 600 it"
    }

    /// Creates `path` with `contents` unless it exists. The bytes go to a
    /// temporary file, synced, then linked into place (link(2) fails on an
    /// existing name), so two processes starting at once never see a partial
    /// file and exactly one of them wins.
    /// - Returns: false when `path` existed already (nothing was written).
    static func createExclusively(path: String, contents: [UInt8]) throws -> Bool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SecretFileError(path: temporary, reason: String(cString: strerror(errno))) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == contents.count else { throw SecretFileError(path: temporary, reason: "short write") }
        if link(temporary, path) != 0 {
            guard errno == EEXIST else { throw SecretFileError(path: path, reason: String(cString: strerror(errno))) }
            return false
        }
        return true
    }
}

public struct SecretFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}
