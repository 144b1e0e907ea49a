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
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": "\(request.method)",
            "endpoint": "\(context.endpointPath ?? "unmatched")",
            "status": "\(status)",
            "duration_ms": "\((milliseconds * 100).rounded() / 100)",
        ]
        if let clientID = context.outcome.clientID { metadata["client_id"] = "\(FormParameters.printable(clientID))" }
        if let error = context.outcome.error { metadata["error"] = "\(error.code.rawValue)" }
        if let source = context.sourceKey { metadata["source"] = "\(source)" }
        context.logger.info("request", metadata: metadata)
    }
}
