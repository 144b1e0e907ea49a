import Crypto
import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

/// A JWS compact serialisation taken apart, checked here with swift-crypto alone,
/// not with the jwt-kit code that signed it.
struct DecodedJWT {
    let header: [String: JSONValue]
    let claims: [String: JSONValue]
    let signingInput: String
    let signature: Data

    init(_ token: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3, "three parts in \(token)", sourceLocation: sourceLocation)
        header = try JSONDecoder().decode([String: JSONValue].self, from: try #require(base64URLDecode(parts[0])))
        claims = try JSONDecoder().decode([String: JSONValue].self, from: try #require(base64URLDecode(parts[1])))
        signingInput = parts[0] + "." + parts[1]
        signature = try #require(base64URLDecode(parts[2]))
    }

    /// ES256 (RFC 7518 §3.4) with the key of `jwks` whose `kid` the header names.
    func verifies(against jwks: [String: JSONValue]) -> Bool {
        guard case .array(let keys)? = jwks["keys"], case .string(let kid)? = header["kid"],
            let key = keys.compactMap({ value -> [String: JSONValue]? in
                if case .object(let object) = value, object["kid"] == .string(kid) { return object }
                return nil
            }).first,
            key["kty"] == "EC", key["crv"] == "P-256",
            let x = key["x"]?.string.flatMap(base64URLDecode), let y = key["y"]?.string.flatMap(base64URLDecode),
            let publicKey = try? P256.Signing.PublicKey(rawRepresentation: x + y),
            let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
        else { return false }
        return publicKey.isValidSignature(ecdsa, for: Data(signingInput.utf8))
    }
}

func base64URLDecode(_ text: String) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    return Data(base64Encoded: base64)
}

func base64URLEncode(_ data: some DataProtocol) -> String {
    Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

extension TestServer {
    /// `GET` a public JSON document.
    func getJSON(_ uri: String) async throws -> [String: JSONValue] {
        let reply = try await send(uri: uri, method: .get)
        #expect(reply.status == 200, "\(uri): \(reply)")
        return try #require(reply.json, "\(uri): \(reply)")
    }
}
