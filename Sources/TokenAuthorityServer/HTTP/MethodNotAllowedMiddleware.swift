import HTTPTypes
import Hummingbird
import TokenAuthority

/// A path the server serves, asked with a method it does not serve there: 405
/// with `Allow` naming the methods it does (RFC 9110 §15.5.6), not 404, which
/// would say the resource does not exist. (HEAD is served wherever GET is: the
/// router generates those routes, RFC 9110 §9.3.2.)
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// The methods of each route's path.
    let allowed: [String: Set<HTTPRequest.Method>]

    init(routes: [(path: String, method: HTTPRequest.Method)]) {
        allowed = Dictionary(grouping: routes, by: \.path).mapValues { Set($0.map(\.method)) }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let methods = allowed[request.uri.path], !methods.contains(request.method) else {
            return try await next(request, context)
        }

        var names = methods.map(\.rawValue)
        if methods.contains(.get) { names.append("HEAD") }
        let allow = names.sorted().joined(separator: ", ")
        let error = OAuthError(
            .invalidRequest, "\(request.method.rawValue.prefix(16)) is not served here; use \(allow).", status: 405)
        context.outcome.error = error
        var response = OAuthHTTP.response(for: error)
        response.headers[.allow] = allow
        return response
    }
}
