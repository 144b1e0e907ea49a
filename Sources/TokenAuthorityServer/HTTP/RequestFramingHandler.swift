import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Refuses, as soon as its head arrives, a request whose framing the server
/// will not serve, answering once and closing the connection (the rest of the
/// request is never read):
///
/// - no `Host` in an HTTP/1.1 request, more than one, or one that is no
///   authority: 400 (RFC 9112 §3.2);
/// - a `Transfer-Encoding` other than `chunked`: 501 (RFC 9112 §6.1);
/// - an `Expect` other than `100-continue`: 417 (RFC 9110 §10.1.1);
/// - a `Content-Length` over `[security.http] max_body_size`: 413 at once,
///   without waiting for bytes that would be refused anyway;
/// - header fields over `[security.http] max_header_size`: 431 (RFC 6585 §5).
///
/// It also closes what HTTP/1.0 does not keep alive, and answers
/// `Expect: 100-continue` with 100 (Continue).
///
/// It sits before Hummingbird's conversion to HTTP types, which keeps only the
/// first `Host` and drops the version: both are needed here.
///
/// What it writes itself waits its turn: a client may pipeline requests, and
/// answers go out in their order (RFC 9112 §9.3.2), so it watches the responses
/// pass and speaks only when every earlier request has had its answer.
final class RequestFramingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    struct Refusal: Equatable {
        var status: HTTPResponseStatus
        var description: String
    }

    private let maximumBodySize: Int
    /// The router's paths: the log line names one of them, never a raw path.
    private let routes: Set<String>
    private let logger: Logger
    /// Set once a request was refused: everything after it on this connection is dropped.
    private var refused = false
    /// The requests passed on whose answer has not ended, oldest first: true where
    /// the request still awaits its 100 (Continue).
    private var unanswered: [Bool] = []
    /// A refusal that waits for the answers to the requests before it.
    private var pendingRefusal: (head: HTTPRequestHead, refusal: Refusal)?

    init(maximumBodySize: Int, routes: Set<String>, logger: Logger) {
        self.maximumBodySize = maximumBodySize
        self.routes = routes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        if let refusal = Self.refusal(of: head, maximumBodySize: maximumBodySize) {
            refused = true
            if unanswered.isEmpty { refuse(head, refusal, context: context) } else { pendingRefusal = (head, refusal) }
            return
        }
        // Hummingbird closes the connection after its answer only for a literal
        // `Connection: close`; an HTTP/1.0 request without keep-alive, or a
        // `Connection: Close, …`, means the same (RFC 9112 §9.3).
        let closes = !head.isKeepAlive
        if closes { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        // RFC 9110 §10.1.1: an origin server answers `Expect: 100-continue` at once,
        // here with 100 (Continue), so the client sends its body without waiting.
        unanswered.append(!head.headers["Expect"].isEmpty && head.version.major == 1 && head.version.minor >= 1)
        sendContinueIfItsTurn(context: context)
        // The part as it came unless it was changed: no new box on the common path.
        context.fireChannelRead(closes ? wrapInboundOut(.head(head)) : data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data), !unanswered.isEmpty else { return }
        unanswered.removeFirst()
        if unanswered.isEmpty, let pending = pendingRefusal {
            pendingRefusal = nil
            refuse(pending.head, pending.refusal, context: context)
        } else {
            sendContinueIfItsTurn(context: context)
        }
    }

    /// 100 (Continue) for the oldest unanswered request, when it awaits one: only
    /// then is no earlier answer still being written.
    private func sendContinueIfItsTurn(context: ChannelHandlerContext) {
        guard unanswered.first == true else { return }
        unanswered[0] = false
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
    }

    /// What is wrong with a request head, or `nil` to serve it. One pass over the
    /// fields, comparing names as bytes: this runs for every request.
    static func refusal(of head: HTTPRequestHead, maximumBodySize: Int) -> Refusal? {
        var hosts = 0
        var host: String?
        var codings: [String] = []
        var expectations: [String] = []
        var contentLength: String?
        for (name, value) in head.headers {
            if name.equalsIgnoringASCIICase("host") {
                hosts += 1
                host = value
            } else if name.equalsIgnoringASCIICase("transfer-encoding") {
                codings += value.split(separator: ",").map { Self.token($0) }
            } else if name.equalsIgnoringASCIICase("expect") {
                expectations.append(Self.token(Substring(value)))
            } else if name.equalsIgnoringASCIICase("content-length") {
                contentLength = value
            }
        }
        if hosts > 1 {
            return Refusal(status: .badRequest, description: "The request has more than one Host header.")
        }
        if hosts == 0, head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) {
            return Refusal(status: .badRequest, description: "The request has no Host header.")
        }
        if let host, !host.utf8.allSatisfy(isAuthorityByte) {
            return Refusal(status: .badRequest, description: "The Host header is not a valid authority.")
        }
        if !codings.isEmpty, codings != ["chunked"] {
            return Refusal(status: .notImplemented, description: "Only the chunked transfer coding is implemented.")
        }
        if expectations.contains(where: { $0 != "100-continue" }) {
            return Refusal(status: .expectationFailed, description: "The only expectation met is 100-continue.")
        }
        if let contentLength, let length = Int(Substring(contentLength).trimmingOptionalWhitespace), length > maximumBodySize {
            return Refusal(status: .payloadTooLarge, description: "The request body is too large.")
        }
        return nil
    }

    /// A list element or value without its optional whitespace (RFC 9110 §5.6.3), in lowercase.
    private static func token(_ text: Substring) -> String {
        String(text.trimmingOptionalWhitespace).lowercased()
    }

    /// Header fields over `[security.http] max_header_size` stop NIO's decoder before a
    /// head exists: 431 with a JSON body (RFC 6585 §5), where Hummingbird would answer
    /// a bare 400. Other decoding errors go on to Hummingbird as before.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow, !refused, unanswered.isEmpty
        else {
            context.fireErrorCaught(error)
            return
        }
        refused = true
        refuse(nil, Refusal(status: .requestHeaderFieldsTooLarge, description: "The request's header fields are too large."), context: context)
    }

    private func refuse(_ head: HTTPRequestHead?, _ refusal: Refusal, context: ChannelHandlerContext) {
        // The request never reaches the router, so its log line, like RequestLogMiddleware's, is written here,
        // before the answer: a client that has the answer finds the line already in the log.
        let path = head.map { String($0.uri.prefix { $0 != "?" }) } ?? ""
        var metadata: Logger.Metadata = [
            "request_id": "\(RequestID())", "method": "\(head.map { String($0.method.rawValue.prefix(16)) } ?? "-")",
            "endpoint": "\(routes.contains(path) ? path : "unmatched")", "status": "\(refusal.status.code)",
            "error": "invalid_request", "duration_ms": "0.0",
        ]
        if let source = context.channel.remoteAddress?.ipAddress { metadata["source"] = "\(source)" }
        logger.info("request", metadata: metadata)
        let body = #"{"error":"invalid_request","error_description":"\#(refusal.description)"}"#
        var headers = HTTPHeaders([
            ("Content-Type", "application/json;charset=UTF-8"), ("Cache-Control", "no-store"),
            ("Connection", "close"), ("Content-Length", String(body.utf8.count)),
        ])
        headers.add(name: "Server", value: "token-authority")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: refusal.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    /// RFC 3986 §3.2: the bytes of `host [ ":" port ]`, IP literals included.
    private static func isAuthorityByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "-._~!$&'()*+,;=:%[]".utf8.contains(byte)
        }
    }
}

@available(*, unavailable)
extension RequestFramingHandler: Sendable {}
