import Foundation
import Testing
@testable import TokenAuthorityServer

/// README, "Logs": structured log lines, as logfmt (`format = "text"`) or JSON (`format = "json"`).
@Suite("Log line rendering")
struct LineLogHandlerTests {
    private let fields = [
        ("ts", "2026-11-23T19:30:00.123Z"), ("level", "info"), ("msg", "request"), ("endpoint", "/oauth2/token"),
        ("client_id", "a b=\"c\"\n"), ("empty", ""),
    ]

    @Test("logfmt: plain values bare; spaces, quotes, '=', control characters and empty values quoted and escaped")
    func logfmt() {
        #expect(
            LineLogHandler.logfmt(fields)
                == #"ts=2026-11-23T19:30:00.123Z level=info msg=request endpoint=/oauth2/token client_id="a b=\"c\"\n" empty="""#)
    }

    @Test("JSON: one object per line that a JSON parser reads back exactly")
    func json() throws {
        let line = LineLogHandler.json(fields + [("control", "\u{1}\u{7F}é")])
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["client_id"] == "a b=\"c\"\n")
        #expect(object["control"] == "\u{1}\u{7F}é")
        #expect(object.count == fields.count + 1)
    }

    @Test("Timestamps are UTC ISO 8601 with milliseconds")
    func timestamp() {
        let stamp = LineLogHandler.timestamp()
        #expect(stamp.count == 24 && stamp.hasSuffix("Z"), "\(stamp)")
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: stamp) != nil, "\(stamp)")
    }
}

extension ISO8601DateFormatter {
    fileprivate static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
