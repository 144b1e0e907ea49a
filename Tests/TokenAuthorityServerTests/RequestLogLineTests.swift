import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import TokenAuthority
@testable import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "Logs": `serve` writes request lines through `LineLogHandler` directly (the
/// end-to-end request log tests read them); under any other swift-log backend, an
/// embedding application's, the same fields arrive as the metadata of a "request" event.
@Suite("Request log fields")
struct RequestLogLineTests {
    @Test("Another logging backend receives one info event per request with the line's fields")
    func otherBackend() async throws {
        try await TestServer.with { server in
            // Given a client and an application logging to a backend that keeps its events
            let client = try await server.client()
            let events = CapturedEvents()
            let logger = Logger(label: "test") { _ in CapturingLogHandler(events: events) }
            let app = Application(router: buildRouter(services: server.services), logger: logger)

            // When the client asks for a token
            let status = try await app.test(.router) { http in
                try await http.execute(
                    uri: "/oauth2/token", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .authorization: Form.basic(client)],
                    body: ByteBuffer(string: "grant_type=client_credentials")
                ) { $0.status.code }
            }

            // Then one "request" event carries the method, endpoint, status, client and duration
            #expect(status == 200)
            let requests = events.all.filter { $0.message == "request" }
            try #require(requests.count == 1)
            let fields = requests[0].metadata
            #expect(fields["method"] == "POST")
            #expect(fields["endpoint"] == "/oauth2/token")
            #expect(fields["status"] == "200")
            #expect(fields["client_id"] == "\(client.clientID)")
            #expect(fields["duration_ms"].flatMap { Double("\($0)") } != nil)
            #expect(requests[0].level == .info)
        }
    }

    @Test("Durations are milliseconds to two decimals, trailing zeros dropped", arguments: [
        (Duration.zero, "0"), (.microseconds(30), "0.03"), (.microseconds(34), "0.03"), (.microseconds(35), "0.04"),
        (.microseconds(1500), "1.5"), (.microseconds(1050), "1.05"), (.milliseconds(12), "12"),
        (.seconds(61), "61000"),
    ])
    func milliseconds(_ elapsed: Duration, _ text: String) {
        #expect(RequestLogMiddleware.milliseconds(elapsed) == text)
    }
}

private struct CapturedEvent: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: Logger.Metadata
}

private final class CapturedEvents: Sendable {
    private let events = Mutex<[CapturedEvent]>([])

    func append(_ event: CapturedEvent) { events.withLock { $0.append(event) } }
    var all: [CapturedEvent] { events.withLock { $0 } }
}

private struct CapturingLogHandler: LogHandler {
    let events: CapturedEvents
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        events.append(CapturedEvent(level: event.level, message: event.message.description, metadata: event.metadata ?? [:]))
    }
}
