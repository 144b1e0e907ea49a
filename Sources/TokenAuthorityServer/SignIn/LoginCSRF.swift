import Crypto
import Foundation
import TokenAuthority

/// The login form's CSRF protection (docs/browser-sign-in.md, "The login page"): a
/// signed double-submit token. The page sets a random `__Host-` cookie and puts the
/// HMAC of its value in the form; a forged form from another site can neither read
/// the cookie nor compute the HMAC, whose key is derived from `database.key_file`, so
/// every instance sharing the key file accepts the others' forms.
struct LoginCSRF: Sendable {
    static let cookieName = "__Host-token-authority-csrf"
    private let key: SymmetricKey

    init(serverKey: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: serverKey), info: Data("token-authority login CSRF".utf8),
            outputByteCount: 32)
    }

    /// The form's token for a cookie value.
    func token(for cookie: String) -> String {
        Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Data(cookie.utf8), using: key))
    }

    /// Whether the form's token belongs to the cookie the browser sent.
    func isValid(token: String?, cookie: String?) -> Bool {
        guard let token, let cookie, Base64URL.isEncoding(cookie, ofByteCount: 32) else { return false }
        guard Base64URL.isEncoding(token, ofByteCount: 32), let mac = Base64URL.decode(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(cookie.utf8), using: key)
    }
}
