import HTTPTypes
import Hummingbird
import Logging
import TokenAuthority

/// The HTTP shape shared by the OAuth endpoints: reading the form body
/// (SPEC §4's first check) and writing JSON answers that are never cached.
enum OAuthHTTP {
    /// `Pragma: no-cache` (RFC 6749 §5.1), which HTTPTypes has no name for.
    static let pragma = HTTPField.Name("Pragma")!

    /// SPEC §4: a body over 64 KiB is 413 `invalid_request`.
    static let maximumBodySize = 64 * 1024

    static func readForm(_ request: Request) async throws(OAuthError) -> FormParameters {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingWhitespace() ?? ""
        guard mediaType == "application/x-www-form-urlencoded" else {
            throw OAuthError.invalidRequest.with(
                description: "The request must have Content-Type: application/x-www-form-urlencoded.")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodySize)
        } catch {
            throw OAuthError.requestTooLarge
        }
        return try FormParameters(decoding: body.readableBytesView)
    }

    /// A JSON response with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
    static func response(status: HTTPResponse.Status, json: String, extraHeaders: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/json;charset=UTF-8",
            .cacheControl: "no-store",
            pragma: "no-cache",
        ]
        headers.append(contentsOf: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// Renders an RFC 6749 §5.2 error; 401 carries the challenge of RFC 6749 §5.2 / RFC 7235.
    static func response(for error: OAuthError) -> Response {
        let extra: HTTPFields = error.status == 401 ? [.wwwAuthenticate: "Basic realm=\"token-authority\""] : [:]
        return response(status: .init(code: error.status), json: error.json, extraHeaders: extra)
    }

    /// Runs an OAuth endpoint: its `OAuthError`s become their JSON answers, anything
    /// else a 500 `server_error` whose details go only to the log.
    static func respond(
        logger: Logger, endpoint: String, _ body: () async throws -> Response
    ) async -> Response {
        do {
            return try await body()
        } catch let error as OAuthError {
            return response(for: error)
        } catch {
            logger.error("unexpected failure", metadata: ["endpoint": "\(endpoint)", "error": "\(String(reflecting: error))"])
            return response(for: .serverError)
        }
    }
}
