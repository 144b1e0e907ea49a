import Crypto
import TokenAuthority

/// A JWS in the compact serialization (RFC 7515 §7.1), signed with ES256 (RFC 7518 §3.4):
/// `BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(R || S)`.
///
/// Built here rather than by jwt-kit, which still verifies: its `JWTKeyCollection`
/// is an actor and its payloads go through `JSONEncoder`, together about a tenth of
/// the cost of a JWT access token.
enum CompactJWS {
    /// `typ` is the media type of the whole JWS (RFC 7515 §4.1.9): `at+jwt` for
    /// access tokens (RFC 9068 §2.1), `JWT` for ID tokens.
    static func es256(payload: String, type: String, key: SigningKey) throws -> String {
        var header = JSONObjectWriter()
        header.add("alg", SigningKey.algorithm)
        header.add("kid", key.keyID)
        header.add("typ", type)
        let signingInput = Base64URL.encode(header.finish().utf8) + "." + Base64URL.encode(payload.utf8)
        // SHA-256 of the signing input, then ECDSA P-256; R and S 32 bytes each (RFC 7518 §3.4).
        let signature = try key.privateKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
