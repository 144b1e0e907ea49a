import ArgumentParser
import Foundation
import TokenAuthority
import TokenAuthorityServer

/// The JWT signing keys (README, "How tokens behave": JWT access tokens, RFC 9068).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage the JWT access-token signing keys.",
        subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new signing key current; the old one stays in /oauth2/jwks until its tokens expire.")

        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let services = try await options.openServices()
            let keyID = try await services.rotateSigningKey()
            if json {
                try printJSON(["kid": keyID])
            } else {
                print("new signing key: \(keyID)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the signing keys, newest first.")

        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        struct Row: Encodable {
            var kid: String
            var algorithm: String
            var status: String
            var created_at: String
            var retired_at: String?
            var publish_until: String?

            enum CodingKeys: String, CodingKey {
                case kid, algorithm, status, created_at, retired_at, publish_until
            }

            /// Every row has every member: `retired_at` is `null` for the current key rather than absent.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(kid, forKey: .kid)
                try container.encode(algorithm, forKey: .algorithm)
                try container.encode(status, forKey: .status)
                try container.encode(created_at, forKey: .created_at)
                try container.encode(retired_at, forKey: .retired_at)
                try container.encode(publish_until, forKey: .publish_until)
            }
        }

        func run() async throws {
            let store = try await options.openStore()
            let published = Set(try await store.publishedSigningKeys(at: Clock.system.now()).map(\.keyID))
            let rows = try await store.signingKeys().map { key in
                Row(
                    kid: key.keyID, algorithm: key.algorithm,
                    status: key.retiredAt == nil ? "current" : published.contains(key.keyID) ? "published" : "retired",
                    created_at: iso8601(key.createdAt), retired_at: key.retiredAt.map(iso8601),
                    publish_until: key.publishUntil.map(iso8601))
            }
            if json {
                try printJSON(rows)
            } else if rows.isEmpty {
                print("no signing keys yet (one is generated when the server starts)")
            } else {
                for row in rows {
                    print("\(row.kid)  \(row.algorithm)  \(row.status)  created \(row.created_at)")
                }
            }
        }
    }
}
