import Foundation
import TokenAuthority

/// The one form encoder of the tests: `application/x-www-form-urlencoded` (RFC 6749
/// Appendix B) and HTTP Basic client authentication (RFC 6749 §2.3.1). It encodes the
/// text's UTF-8 byte by byte, so nothing on the way normalizes it (U+212A and NFD
/// reach the server as written).
public enum Form {
    /// Every byte but the unreserved ones (RFC 3986 §2.3) as `%XX`; a space as `+`.
    public static func component(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.append(byte)
            case UInt8(ascii: " "):
                encoded.append(UInt8(ascii: "+"))
            default:
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// `name=value&…`, in order.
    public static func encode(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(component($0.0))=\(component($0.1))" }.joined(separator: "&")
    }

    /// `Basic base64(form-encoded id ":" form-encoded secret)`.
    public static func basic(id: String, secret: String) -> String {
        basic(raw: "\(component(id)):\(component(secret))")
    }

    public static func basic(_ credentials: ClientCredentials) -> String {
        basic(id: credentials.clientID, secret: credentials.secret ?? "")
    }

    /// `Basic base64(text)`, with `text` sent exactly as given.
    public static func basic(raw text: String) -> String {
        "Basic " + Data(text.utf8).base64EncodedString()
    }
}
