import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// An answer leaves in one flush, its head, body and end together: one `writev`
/// and one wake-up of the event loop, where a body wrapped by a middleware goes
/// out part by part (docs/performance.md, "One flush per answer"). Written here as
/// the server writes it, through Hummingbird's `ResponseWriter`, to a channel that
/// records its flushes.
@Suite("Answers are written in one flush")
struct ResponseFlushTests {
    @Test("GET /health: head, body and end in one flush")
    func health() async throws {
        try await TestServer.with { server in
            let flushes = try await Self.flushes(of: Request.get("/health"), services: server.services)
            #expect(flushes == [["head", "body", "end"]])
        }
    }

    @Test("a token answer and an error answer: each in one flush")
    func tokenAnswers() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let granted = Request.post(
                "/oauth2/token", form: "grant_type=client_credentials", authorization: Form.basic(client))
            #expect(try await Self.flushes(of: granted, services: server.services) == [["head", "body", "end"]])

            let refused = Request.post("/oauth2/token", form: "grant_type=client_credentials", authorization: nil)
            #expect(try await Self.flushes(of: refused, services: server.services) == [["head", "body", "end"]])
        }
    }

    /// The parts of the router's answer to `request`, grouped by the flush that sent them.
    private static func flushes(of request: Request, services: TokenAuthorityServices) async throws -> [[String]] {
        let channel = NIOAsyncTestingChannel()
        let recorder = FlushRecorder()
        try await channel.pipeline.addHandler(recorder)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
        var logger = Logger(label: "token-authority-test")
        logger.logLevel = .warning
        let context = AppRequestContext(source: .init(channel: channel, logger: logger))
        let response = try await buildRouter(services: services).buildResponder().respond(to: request, context: context)
        let asyncChannel = try await channel.eventLoop.submit {
            try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(wrappingChannelSynchronously: channel)
        }.get()
        try await asyncChannel.executeThenClose { _, outbound in
            try await ResponseWriter(outbound: outbound).write(response: response.head, body: response.body)
        }
        return recorder.flushed
    }
}

/// Records the response parts written through it, in groups, one per flush.
private final class FlushRecorder: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private struct Parts {
        var written: [String] = []
        var flushed: [[String]] = []
    }

    private let parts = Mutex(Parts())

    var flushed: [[String]] { parts.withLock { $0.flushed } }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let name: String
        switch unwrapOutboundIn(data) {
        case .head: name = "head"
        case .body: name = "body"
        case .end: name = "end"
        }
        parts.withLock { $0.written.append(name) }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        parts.withLock { parts in
            if !parts.written.isEmpty { parts.flushed.append(parts.written) }
            parts.written = []
        }
        context.flush()
    }
}

extension Request {
    fileprivate static func get(_ path: String) -> Request {
        Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: path), body: RequestBody(buffer: ByteBuffer()))
    }

    fileprivate static func post(_ path: String, form: String, authorization: String?) -> Request {
        var fields: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let authorization { fields[.authorization] = authorization }
        return Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: path, headerFields: fields),
            body: RequestBody(buffer: ByteBuffer(string: form)))
    }
}
