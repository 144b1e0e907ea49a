import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with `RequestFramingHandler` placed
/// before its conversion to HTTP types, where the raw request head is still seen, and
/// `ShutdownNotice` first of all.
struct FramedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let maximumBodySize: Int
    let routes: Set<String>

    var responder: Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let (maximumBodySize, routes) = (maximumBodySize, routes)
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(
                RequestFramingHandler(maximumBodySize: maximumBodySize, routes: routes, logger: logger), position: .before(codec))
            try pipeline.addHandler(ShutdownNotice(), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 whose requests are framed as `RequestFramingHandler` requires.
    static func framedHTTP1(
        configuration: HTTP1Channel.Configuration, maximumBodySize: Int, routes: Set<String>
    ) -> HTTPServerBuilder {
        .init { responder in
            FramedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: configuration), maximumBodySize: maximumBodySize,
                routes: routes)
        }
    }
}
