import Hummingbird
import Metrics
import Synchronization

/// Hummingbird's request metrics, under the same names and labels as its
/// `MetricsMiddleware` (README, "Metrics: `GET /metrics`"), counted once the handler has its answer.
///
/// Hummingbird's own middleware counts a request after the body is written, by
/// wrapping every body in a closure. A wrapped body is written part by part: the
/// head, the body and the end each hop to the event loop and are flushed alone,
/// two `write` calls and three wake-ups of the event loop for every answer. A body
/// left as one buffer goes out with its head in a single flush, one `writev`
/// (docs/performance.md, "One flush per answer"). The answers here are single
/// buffers, written at once, so counting them before the write moves the figures
/// by microseconds.
///
/// Each label set is built once and kept: the metrics of a route, method and status.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let series = RequestMetricsSeries()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let active = series.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let route = series.route(context.endpointPath ?? "Unknown", request.method, response.status)
            route.requests.increment()
            route.duration.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let route = series.route(context.endpointPath ?? "NotFound", request.method, status)
            route.requests.increment()
            route.errors.increment()
            throw error
        }
    }

    private static func nanoseconds(_ elapsed: Duration) -> Int64 {
        let (seconds, attoseconds) = elapsed.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The metric objects of `RequestMetricsMiddleware`, made on first use and kept.
final class RequestMetricsSeries: Sendable {
    struct Route: Sendable {
        let requests: Counter
        let duration: Timer
        let errors: Counter
    }

    private struct RouteKey: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let routes = Mutex<[RouteKey: Route]>([:])
    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])

    /// Requests in progress with `method`: `http.server.active_requests`.
    func active(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { methods in
            if let meter = methods[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            methods[method] = meter
            return meter
        }
    }

    /// The answers of one route, method and status: `hb.requests`, `http.server.request.duration`
    /// and `hb.request.errors`.
    func route(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Route {
        let key = RouteKey(route: route, method: method, status: status.code)
        return routes.withLock { routes in
            if let series = routes[key] { return series }
            let code = String(status.code)
            let labels = [("http.route", route), ("http.request.method", method.rawValue)]
            let answered = labels + [("http.response.status_code", code)]
            let series = Route(
                requests: Counter(label: "hb.requests", dimensions: answered),
                duration: Timer(label: "http.server.request.duration", dimensions: answered, preferredDisplayUnit: .seconds),
                errors: Counter(label: "hb.request.errors", dimensions: labels + [("error.type", code)]))
            routes[key] = series
            return series
        }
    }
}
