import Foundation

/// `[sign_in] logo_file`: a PNG or SVG of at most 256 KiB, read once at start and
/// served at `/oauth2/login/logo`. A file that cannot be used stops start-up.
struct SignInLogo: Sendable {
    let bytes: [UInt8]
    let mediaType: String

    static let maximumSize = 256 * 1024

    static func load(_ path: String?) throws -> SignInLogo? {
        guard let path else { return nil }
        let mediaType: String
        switch (path as NSString).pathExtension.lowercased() {
        case "png": mediaType = "image/png"
        case "svg": mediaType = "image/svg+xml"
        default: throw Problem(description: "sign_in.logo_file '\(path)' must be a .png or .svg file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "sign_in.logo_file '\(path)' cannot be read")
        }
        guard data.count <= maximumSize else {
            throw Problem(description: "sign_in.logo_file '\(path)' is \(data.count) bytes; at most \(maximumSize) are served")
        }
        return SignInLogo(bytes: [UInt8](data), mediaType: mediaType)
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }
}
