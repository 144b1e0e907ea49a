import Crypto
import Foundation
import TokenAuthority

/// An ES256 (ECDSA P-256, RFC 7518 §3.4) key for JWT access tokens.
struct SigningKey: Sendable {
    static let algorithm = "ES256"

    let privateKey: P256.Signing.PrivateKey
    /// RFC 7638 thumbprint of the public key, base64url: stable for the key, so a
    /// configured key keeps its `kid` across restarts and processes.
    let keyID: String
    /// The public key as `/oauth2/jwks` publishes it.
    let publicJWK: String

    init(_ privateKey: P256.Signing.PrivateKey) {
        self.privateKey = privateKey
        let raw = Array(privateKey.publicKey.rawRepresentation)
        let x = Base64URL.encode(raw[0..<32])
        let y = Base64URL.encode(raw[32..<64])
        // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
        let thumbprintInput = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        keyID = Base64URL.encode(Array(SHA256.hash(data: Array(thumbprintInput.utf8))))
        var jwk = JSONObjectWriter()
        jwk.add("kty", "EC")
        jwk.add("crv", "P-256")
        jwk.add("x", x)
        jwk.add("y", y)
        jwk.add("kid", keyID)
        jwk.add("use", "sig")
        jwk.add("alg", Self.algorithm)
        publicJWK = jwk.finish()
    }

    static func generate() -> SigningKey {
        SigningKey(P256.Signing.PrivateKey())
    }

    /// A PEM private key (SEC 1 `EC PRIVATE KEY` or PKCS #8), as `[oauth.jwt] signing_key` names.
    init(pem: String) throws {
        self.init(try P256.Signing.PrivateKey(pemRepresentation: pem))
    }

    /// The row for `signing_keys`, the private key sealed under the server key.
    func record(sealedWith cipher: TokenCipher, at now: EpochMilliseconds) throws -> SigningKeyRecord {
        SigningKeyRecord(
            keyID: keyID, algorithm: Self.algorithm, privateKeySealed: try cipher.seal(privateKey.pemRepresentation).ciphertext,
            publicJWK: publicJWK, createdAt: now)
    }

    /// Opens a stored key.
    init(record: SigningKeyRecord, cipher: TokenCipher) throws {
        try self.init(pem: try cipher.open(record.privateKeySealed))
    }
}
