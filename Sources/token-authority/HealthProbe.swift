import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One `GET` on a fresh connection, for `token-authority health`: HTTP/1.1 (RFC 9112) over
/// TCP, or over TLS without any certificate check (like `curl -k`; a local liveness probe asks
/// whether the server answers, not who it is).
enum HealthProbe {
    struct Target: CustomStringConvertible {
        var tls: Bool
        var host: String
        var port: Int
        var path: String

        var description: String { "\(tls ? "https" : "http")://\(authority)\(path)" }
        /// `host:port` for the Host header (RFC 9112 §3.2), an IPv6 literal in brackets (RFC 3986 §3.2.2).
        var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        init(tls: Bool, host: String, port: Int, path: String) {
            (self.tls, self.host, self.port, self.path) = (tls, host, port, path)
        }

        /// `http://HOST[:PORT][/PATH]` or `https://...`; an empty path means `/health`.
        init(url: String) throws {
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
                scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
            else { throw CommandError("--url \(url): expected http://HOST:PORT/PATH or https://...") }
            tls = scheme == "https"
            self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            port = components.port ?? (tls ? 443 : 80)
            let query = components.percentEncodedQuery.map { "?\($0)" } ?? ""
            path = (components.percentEncodedPath.isEmpty ? "/health" : components.percentEncodedPath) + query
        }
    }

    struct Reply {
        var status: Int
        var body: String

        /// The body is a JSON object whose `status` is `"ok"`.
        var saysOK: Bool {
            let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            return object?["status"] as? String == "ok"
        }
    }

    struct Timeout: Error {}

    static func get(_ target: Target, timeout: TimeAmount) async throws -> Reply {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let reply = loop.makePromise(of: Reply.self)
        let deadline = loop.scheduleTask(in: timeout) { reply.fail(Timeout()) }
        defer { deadline.cancel() }

        let tls = try target.tls ? NIOSSLContext(configuration: unverifiedTLS) : nil
        // SNI carries names only (RFC 6066 §3).
        let serverName = target.host.isIPAddress ? nil : target.host
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path)
        head.headers.add(name: "Host", value: target.authority)
        head.headers.add(name: "User-Agent", value: "token-authority-health")
        head.headers.add(name: "Accept", value: "application/json")
        head.headers.add(name: "Connection", value: "close")
        let request = head

        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(Exchange(request: request, reply: reply))
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .success(let channel): reply.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error): reply.fail(error)
                }
            }
        return try await reply.futureResult.get()
    }

    /// What went wrong, in a few words.
    static func describe(_ error: any Error, timeout: Double) -> String {
        switch error {
        case is Timeout, ChannelError.connectTimeout: return "no answer within \(timeout.formatted()) s"
        case ChannelError.eof: return "the connection closed before an answer"
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error, timeout: timeout) }
            return "cannot resolve \(error.host)"
        case let error as IOError: return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOSSLError: return "TLS: \(error)"
        case let error as BoringSSLError: return "TLS: \(error)"
        default: return "\(error)"
        }
    }

    private static var unverifiedTLS: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }

    /// Sends the request once the connection is up, collects the answer.
    private final class Exchange: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        private let request: HTTPRequestHead
        private let reply: EventLoopPromise<Reply>
        private var status = 0
        private var body = ByteBuffer()

        init(request: HTTPRequestHead, reply: EventLoopPromise<Reply>) {
            self.request = request
            self.reply = reply
        }

        func channelActive(context: ChannelHandlerContext) {
            // NIOSSL holds these until its handshake is done.
            context.write(wrapOutboundOut(.head(request)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body(var part): if body.readableBytes < 65536 { body.writeBuffer(&part) }
            case .end: reply.succeed(Reply(status: status, body: String(buffer: body)))
            }
        }

        // A promise completed already ignores a later failure: these matter only before the answer.
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            reply.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            reply.fail(ChannelError.eof)
            context.fireChannelInactive()
        }
    }
}

extension String {
    /// An IPv4 or IPv6 literal.
    fileprivate var isIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, self, &v4) == 1 || inet_pton(AF_INET6, self, &v6) == 1
    }
}
