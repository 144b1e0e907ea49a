import Hummingbird
import NIOCore
import Prometheus

/// `GET /metrics`: the Prometheus text format (version 0.0.4) of `ServerMetrics`.
struct MetricsController<Context: RequestContext> {
    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/metrics", use: metrics)
        return routes
    }

    @Sendable func metrics(_ request: Request, context: Context) async throws -> Response {
        var bytes: [UInt8] = []
        ServerMetrics.registry.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
