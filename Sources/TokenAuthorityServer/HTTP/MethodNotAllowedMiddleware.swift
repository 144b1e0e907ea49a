import HTTPTypes
import Hummingbird
import TokenAuthority

/// A path the server serves, asked with a method it does not serve there: 405
/// with `Allow` naming the methods it does (RFC 9110 §15.5.6), not 404, which
/// would say the resource does not exist. (HEAD is served wherever GET is: the
/// router generates those routes, RFC 9110 §9.3.2; except on `getOnly` paths.)
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// The methods served on each route's path, HEAD included where it is.
    let allowed: [String: Set<HTTPRequest.Method>]

    /// - Parameter getOnly: paths whose GET changes state and whose HEAD is therefore
    ///   refused (`SignInController.getOnlyPaths`), whatever route answers it.
    init(routes: [(path: String, method: HTTPRequest.Method)], getOnly: Set<String>) {
        allowed = Dictionary(grouping: routes, by: \.path).reduce(into: [:]) { allowed, entry in
            var methods = Set(entry.value.map(\.method))
            if methods.contains(.get) { methods.insert(.head) }
            if getOnly.contains(entry.key) { methods.remove(.head) }
            allowed[entry.key] = methods
        }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let methods = allowed[request.uri.path], !methods.contains(request.method) else {
            return try await next(request, context)
        }
        return Self.refusal(of: request.method, allowing: methods, context: context)
    }

    /// The 405 answer, with `Allow` and the error in the log line.
    static func refusal(of method: HTTPRequest.Method, allowing methods: Set<HTTPRequest.Method>, context: Context)
        -> Response
    {
        let allow = methods.map(\.rawValue).sorted().joined(separator: ", ")
        let error = OAuthError(
            .invalidRequest, "\(method.rawValue.prefix(16)) is not served here; use \(allow).", status: 405)
        context.outcome.error = error
        var response = OAuthHTTP.response(for: error)
        response.headers[.allow] = allow
        return response
    }
}
