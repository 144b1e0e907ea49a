import Hummingbird
import Logging
import TokenAuthority

/// One log line per request, once it is answered: request id, method, endpoint
/// (the route, never the raw path), status, client id, OAuth error code, source
/// address and duration. Never a token, secret or password: those travel in
/// bodies and the Authorization header, which this never reads.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context: context, status: response.status.code, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, context: context, status: status, since: started)
            throw error
        }
    }

    private func log(_ request: Request, context: Context, status: Int, since started: ContinuousClock.Instant) {
        guard context.logger.logLevel <= .info else { return }
        // Plain strings in reading order, built without reflection or floating-point
        // formatting: this runs for every request (docs/performance.md, "What keeps it fast").
        var fields: [(String, String)] = [
            ("method", request.method.rawValue), ("endpoint", context.endpointPath ?? "unmatched"),
            ("status", String(status)),
        ]
        if let clientID = context.outcome.clientID { fields.append(("client_id", FormParameters.printable(clientID))) }
        if let error = context.outcome.error { fields.append(("error", error.code.rawValue)) }
        if let source = context.sourceKey { fields.append(("source", source)) }
        fields.append(("duration_ms", Self.milliseconds(ContinuousClock.now - started)))
        if let lines = context.logger.handler as? LineLogHandler {
            lines.logRequest(fields)
        } else {
            // Another backend (an embedding application's, the tests'): the same fields as metadata.
            let metadata = Logger.Metadata(fields.map { ($0, .string($1)) }, uniquingKeysWith: { _, last in last })
            context.logger.info("request", metadata: metadata)
        }
    }

    /// Milliseconds to two decimals, trailing zeros dropped: `0.03`, `1.5`, `12`.
    static func milliseconds(_ elapsed: Duration) -> String {
        let (seconds, attoseconds) = elapsed.components
        let hundredths = max(0, seconds * 100_000 + (attoseconds + 5_000_000_000_000) / 10_000_000_000_000)
        let whole = String(hundredths / 100)
        switch hundredths % 100 {
        case 0: return whole
        case let fraction where fraction % 10 == 0: return whole + "." + String(fraction / 10)
        case let fraction: return whole + (fraction < 10 ? ".0" : ".") + String(fraction)
        }
    }
}
