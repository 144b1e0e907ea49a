import Logging
import TokenAuthority
import Synchronization

import Foundation

/// swift-log's backend for `serve`: one line per event on standard error, as
/// `key=value` pairs (logfmt, `[logging] format = "text"`) or one JSON object
/// (`format = "json"`), for a container's log collector. Keys: `ts`, `level`,
/// `msg`, then the event's metadata, sorted.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let format: DeploymentConfiguration.Logging.Format

    public init(level: Logger.Level, format: DeploymentConfiguration.Logging.Format) {
        logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()), ("level", "\(event.level)"), ("msg", "\(event.message)"),
        ]
        fields.reserveCapacity(3 + Self.leadingKeys.count)
        // The handler's metadata (Hummingbird's request id) and the event's, the event's
        // value winning, without merging the two dictionaries for every line.
        let eventMetadata = event.metadata ?? [:]
        func value(_ key: String) -> Logger.MetadataValue? { eventMetadata[key] ?? metadata[key] }
        for key in Self.leadingKeys {
            if let value = value(key == "request_id" ? Self.requestIDKey : key) ?? value(key) {
                fields.append((key, "\(value)"))
            }
        }
        // Keys outside the leading ones, sorted: none on a request line.
        var others: [String] = []
        for key in eventMetadata.keys where !Self.leadingKeySet.contains(key) { others.append(key) }
        for key in metadata.keys where !Self.leadingKeySet.contains(key) && eventMetadata[key] == nil { others.append(key) }
        if !others.isEmpty {
            for key in others.sorted() { if let value = value(key) { fields.append((key, "\(value)")) } }
        }
        let line = format == .json ? Self.json(fields) : Self.logfmt(fields)
        var bytes = Array((line + "\n").utf8)
        Self.output.withLock { _ in
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + written, $0.count - written) }
                if result <= 0 { return }  // nowhere to log to: drop the line rather than spin
                written += result
            }
        }
    }

    // MARK: Rendering

    /// A request line's fields in reading order; other keys follow, sorted.
    private static let leadingKeys = [
        "request_id", "method", "endpoint", "status", "client_id", "error", "source", "duration_ms",
    ]
    /// Hummingbird's request id, logged as `request_id`.
    private static let requestIDKey = "hb.request.id"
    private static let leadingKeySet = Set(leadingKeys + [requestIDKey])

    /// Serialises whole lines from concurrent tasks.
    private static let output = Mutex(())

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
            return plain ? "\(key)=\(value)" : "\(key)=\(JSONObjectWriter.quoted(value))"  // a JSON string literal is a quoted logfmt value
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        var object = JSONObjectWriter()
        for (key, value) in fields { object.add(key, value) }
        return object.finish()
    }

    /// `2026-11-23T19:30:00.123Z`, UTC, built by hand: this runs for every request.
    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        var seconds = time_t(now.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32((now - now.rounded(.down)) * 1000), 3))Z"
    }
}
