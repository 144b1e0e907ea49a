import Hummingbird
import Logging
import TokenAuthority

/// `GET /health`: 200 when the database answers, 503 when it does not.
struct HealthController<Context: RequestContext> {
    let store: any TokenStore

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/health", use: health)
        return routes
    }

    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        do {
            try await store.ping()
            return Self.json(.ok, #"{"status":"ok","database":"ok"}"#)
        } catch {
            context.logger.error("health check: the database did not answer", metadata: ["error": "\(error)"])
            return Self.json(.serviceUnavailable, #"{"status":"unavailable","database":"unreachable"}"#)
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
