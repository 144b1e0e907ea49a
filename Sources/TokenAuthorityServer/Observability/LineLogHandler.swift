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
        // `rawValue`, not "\(event.level)": an enum without a description is printed by reflection.
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()), ("level", event.level.rawValue), ("msg", event.message.description),
        ]
        fields.reserveCapacity(3 + Self.leadingKeys.count)
        // The handler's metadata (Hummingbird's request id) and the event's, the event's
        // value winning, without merging the two dictionaries for every line.
        let eventMetadata = event.metadata ?? [:]
        func value(_ key: String) -> Logger.MetadataValue? { eventMetadata[key] ?? metadata[key] }
        for key in Self.leadingKeys {
            // `request_id` is Hummingbird's request id when there is one.
            let found = key == "request_id" ? value(Self.requestIDKey) ?? value(key) : value(key)
            if let value = found {
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
        emit(fields)
    }

    /// One request's line (`RequestLogMiddleware`), its fields already in reading order:
    /// no metadata dictionary is built, looked up or rendered for it (docs/performance.md,
    /// "What keeps it fast").
    func logRequest(_ requestFields: [(String, String)]) {
        var fields: [(String, String)] = [("ts", Self.timestamp()), ("level", "info"), ("msg", "request")]
        fields.reserveCapacity(4 + requestFields.count)
        if let requestID = metadata[Self.requestIDKey] { fields.append(("request_id", "\(requestID)")) }
        fields.append(contentsOf: requestFields)
        emit(fields)
    }

    /// Renders one line and writes it whole to standard error.
    private func emit(_ fields: [(String, String)]) {
        let line = format == .json ? Self.json(fields) : Self.logfmt(fields)
        let bytes = Array((line + "\n").utf8)
        Self.output.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var rest = buffer[...]
                while !rest.isEmpty {
                    let result = write(STDERR_FILENO, UnsafeRawBufferPointer(rebasing: rest).baseAddress, rest.count)
                    if result <= 0 { return }  // nowhere to log to: drop the line rather than spin
                    rest = rest.dropFirst(result)
                }
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
        var line = ""
        line.reserveCapacity(256)
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { line += " " }
            line += key
            line += "="
            if isPlain(value) { line += value } else { JSONObjectWriter.appendQuoted(value, to: &line) }  // a JSON string literal is a quoted logfmt value
        }
        return line
    }

    /// A logfmt value that needs no quotes: not empty, no space, control character, quote, `=` or backslash.
    private static func isPlain(_ value: String) -> Bool {
        !value.isEmpty
            && value.utf8.allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\\") && $0 != 0x7F }
    }

    static func json(_ fields: [(String, String)]) -> String {
        var object = JSONObjectWriter()
        for (key, value) in fields { object.add(key, value) }
        return object.finish()
    }

    /// `2026-11-23T19:30:00.123Z`, UTC, written digit by digit: this runs for every request.
    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        var seconds = time_t(now.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, digits: Int) {
                var rest = max(0, value)
                for position in stride(from: index + digits - 1, through: index, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                index += digits
            }
            func put(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            put(Int(parts.tm_year) + 1900, digits: 4)
            put("-")
            put(Int(parts.tm_mon) + 1, digits: 2)
            put("-")
            put(Int(parts.tm_mday), digits: 2)
            put("T")
            put(Int(parts.tm_hour), digits: 2)
            put(":")
            put(Int(parts.tm_min), digits: 2)
            put(":")
            put(Int(parts.tm_sec), digits: 2)
            put(".")
            put(min(999, Int((now - now.rounded(.down)) * 1000)), digits: 3)
            put("Z")
            return index
        }
    }
}
