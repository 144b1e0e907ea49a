import Foundation
import Testing
import TokenAuthorityTesting

// The operator's commands (README, "Commands"), run against the database of a running server.

extension ReuseModeServer {
    @Suite("Command line")
    struct Operator {
        // Generated ids are base64url and may begin with "-", so ids are passed after "--".
        @Test("client create, list, show and delete with --json")
        func clientLifecycle() async throws {
            // Given a running server
            let server = try sharedServer()
            let name = uniqueName("shop")

            // When an operator creates a client with --json
            let created = try await server.run([
                "client", "create", "--name", name, "--grant-types", "client_credentials", "--scopes", "read write", "--json",
            ])

            // Then stdout is one JSON object with exactly its id and a high-entropy secret
            #expect(created.status == 0, "\(created)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: String], "\(created)")
            #expect(Set(object.keys) == ["client_id", "client_secret"])
            let client = try JSONDecoder().decode(ClientKeys.self, from: Data(created.stdout.utf8))
            #expect(client.secret.count >= 43)
            #expect(!client.id.isEmpty)

            // And the secret works at the token endpoint
            let token = try await server.clientCredentials(client, scope: "read")
            #expect(token.status == 200, "\(token)")

            // And `client list --json` shows the client, never its secret
            let list = try await server.run(["client", "list", "--json"])
            #expect(list.status == 0, "\(list)")
            let clients = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(clients.contains { $0["client_id"] as? String == client.id })
            #expect(!list.stdout.contains(client.secret))

            // And `client show --json` shows its settings
            let show = try await server.run(["client", "show", "--json", "--", client.id])
            #expect(show.status == 0, "\(show)")
            let shown = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
            #expect(shown["client_id"] as? String == client.id)
            #expect(shown["name"] as? String == name)
            #expect(shown["grant_types"] as? [String] == ["client_credentials"])
            #expect(shown["scopes"] as? [String] == ["read", "write"])
            #expect(!show.stdout.contains(client.secret))

            // When it is deleted
            let delete = try await server.run(["client", "delete", "--json", "--", client.id])

            // Then it is gone: show fails, and its secret no longer authenticates
            #expect(delete.status == 0, "\(delete)")
            let showAgain = try await server.run(["client", "show", "--", client.id])
            #expect(showAgain.status != 0)
            #expect(showAgain.stderr.contains(client.id), "\(showAgain)")
            let refused = try await server.clientCredentials(client)
            #expect(refused.status == 401)
            #expect(refused.string("error") == "invalid_client", "\(refused)")
        }

        @Test("client create with a chosen id and secret")
        func chosenIdAndSecret() async throws {
            // Given a chosen id and a 40-character secret
            let server = try sharedServer()
            let id = uniqueName("chosen")
            let secret = "0123456789abcdefghij0123456789abcdefghij"

            // When the client is created with them
            let created = try await server.run(["client", "create", "--name", id, "--client-id", id, "--client-secret", secret])

            // Then the token endpoint accepts them
            #expect(created.status == 0, "\(created)")
            let reply = try await server.clientCredentials(ClientKeys(id: id, secret: secret))
            #expect(reply.status == 200, "\(reply)")
        }

        @Test("user create --password-stdin makes a user of the password grant")
        func userCreate() async throws {
            // Given a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            let username = uniqueName("alice")

            // When an operator pipes a password line ending in CRLF to `user create --password-stdin`
            let created = try await server.run(["user", "create", username, "--password-stdin"], stdin: "correct horse\r\n")

            // Then the user exists, and the password, line ending stripped, works
            #expect(created.status == 0, "\(created)")
            #expect(!created.stdout.contains("correct horse") && !created.stderr.contains("correct horse"))
            let users = try await server.run(["user", "list", "--json"])
            #expect(users.status == 0, "\(users)")
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(users.stdout.utf8)) as? [[String: Any]])
            #expect(listed.contains { $0["username"] as? String == username })
            let granted = try await server.passwordGrant(client, username: username, password: "correct horse")
            #expect(granted.status == 200, "\(granted)")
            // And a wrong password is invalid_grant naming the user
            let refused = try await server.passwordGrant(client, username: username, password: "wrong horse")
            #expect(refused.status == 400)
            #expect(refused.string("error") == "invalid_grant")
            #expect(refused.string("error_description") == "Authentication failed for \(username)")
        }

        @Test("token list --json filters by client, user and state")
        func tokenListFilters() async throws {
            // Given two clients: one holding a client token and a user token, the other a client token
            let server = try sharedServer()
            let deployment = server.deployment
            let first = try await deployment.createClient()
            let second = try await deployment.createClient()
            let user = try await deployment.createUser(password: "pw-for-token-list")
            #expect(try await server.clientCredentials(first).status == 200)
            #expect(try await server.passwordGrant(first, username: user, password: "pw-for-token-list").status == 200)
            #expect(try await server.clientCredentials(second).status == 200)

            // When the operator lists with filters
            let byClient = try await deployment.tokens(of: first.id)
            let byUser = try await deployment.tokens(["--user", user])
            let active = try await deployment.tokens(of: first.id, ["--state", "ACTIVE"])
            let expired = try await deployment.tokens(of: first.id, ["--state", "EXPIRED"])

            // Then each list holds exactly the matching rows
            #expect(byClient.count == 2 && byClient.allSatisfy { $0.client_id == first.id })
            #expect(Set(byClient.map(\.grant_type)) == ["client_credentials", "password"])
            #expect(byUser.count == 1)
            #expect(byUser.first?.subject == user && byUser.first?.subject_type == "user")
            #expect(byUser.first?.refresh_token_id != nil)
            #expect(active.count == 2)
            #expect(expired.isEmpty)
        }

        @Test("token list --json gives every row the same members, null for no refresh token")
        func tokenListMembers() async throws {
            // Given a client holding a client token (no refresh token) and a user token
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            #expect(try await server.clientCredentials(client).status == 200)
            #expect(try await server.passwordGrant(client, username: "admin", password: "admin").status == 200)

            // When the operator lists them as JSON
            let list = try await server.run(["token", "list", "--json", "--client=\(client.id)"])

            // Then both rows have the same members, as a script reading them (as it would read
            // sqlite3's rows) expects: refresh_token_id is null when there is none, not missing
            #expect(list.status == 0, "\(list)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(rows.count == 2)
            let members: Set<String> = [
                "id", "client_id", "subject_type", "subject", "scope", "state", "grant_type", "issued_at", "expires_at",
                "refresh_token_id",
            ]
            for row in rows { #expect(Set(row.keys) == members, "\(row)") }
        }

        @Test("token revoke, then token list --state REVOKED")
        func tokenRevoke() async throws {
            // Given a client holding a token
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            let issued = try await server.clientCredentials(client)
            let token = try #require(issued.string("access_token"), "\(issued)")

            // When the operator revokes it
            let revoke = try await server.run(["token", "revoke", token])

            // Then it is listed as REVOKED and the client's next request gets a new token
            #expect(revoke.status == 0, "\(revoke)")
            let revoked = try await server.deployment.tokens(of: client.id, ["--state", "REVOKED"])
            #expect(revoked.count == 1)
            let next = try await server.clientCredentials(client)
            #expect(next.status == 200)
            #expect(next.string("access_token") != token)
            #expect(try await server.deployment.activeTokens(of: client.id) == 1)
            // And revoking it again fails with a message
            let again = try await server.run(["token", "revoke", token])
            #expect(again.status != 0)
            #expect(!again.stderr.isEmpty)
        }

        @Test("Deleting a client deletes its tokens")
        func deleteClientDeletesTokens() async throws {
            // Given a client holding a client token and a user token (with its refresh token)
            let server = try sharedServer()
            let deployment = server.deployment
            let client = try await deployment.createClient()
            #expect(try await server.clientCredentials(client).status == 200)
            #expect(try await server.passwordGrant(client, username: "admin", password: "admin").status == 200)
            #expect(try await deployment.tokens(of: client.id).count == 2)

            // When the client is deleted
            let delete = try await server.run(["client", "delete", "--", client.id])

            // Then no access or refresh token row of it is left
            #expect(delete.status == 0, "\(delete)")
            #expect(try await deployment.tokens(of: client.id).isEmpty)
            let owner = "client_id = \(sqlQuoted(client.id))"
            #expect(try await deployment.count("access_tokens", where: owner) == 0)
            #expect(try await deployment.count("refresh_tokens", where: owner) == 0)
        }

        @Test("Deleting a user deletes the user's tokens")
        func deleteUserDeletesTokens() async throws {
            // Given a user holding a token
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: "pw-for-user-delete")
            #expect(try await server.passwordGrant(client, username: user, password: "pw-for-user-delete").status == 200)

            // When the user is deleted
            let delete = try await server.run(["user", "delete", "--", user])

            // Then the user's tokens are gone, and the password no longer works
            #expect(delete.status == 0, "\(delete)")
            #expect(try await server.deployment.tokens(["--user=\(user)"]).isEmpty)
            let subject = "subject_type = 'user' AND subject = \(sqlQuoted(user))"
            #expect(try await server.deployment.count("refresh_tokens", where: subject) == 0)
            let refused = try await server.passwordGrant(client, username: user, password: "pw-for-user-delete")
            #expect(refused.status == 400 && refused.string("error") == "invalid_grant", "\(refused)")
        }

        /// A command an operator gets wrong, and a secret it carries that must not be echoed.
        struct Mistake: Sendable, CustomTestStringConvertible {
            var arguments: [String]
            var stdin: String?
            var secret: String?
            var testDescription: String { arguments.joined(separator: " ") }
        }

        static let mistakes: [Mistake] = [
            Mistake(arguments: ["client", "create"]),
            Mistake(arguments: ["client", "create", "--name", "x", "--grant-types", "implicit"]),
            Mistake(arguments: ["client", "create", "--name", "x", "--client-id", "has space"]),
            Mistake(
                arguments: ["client", "create", "--name", "x", "--client-secret", "short-Secret-42"],
                secret: "short-Secret-42"),
            Mistake(
                arguments: ["client", "create", "--name", "x", "--client-secret", "0123456789abcdefghij0123456789abcdefghij", "--bogus"],
                secret: "0123456789abcdefghij0123456789abcdefghij"),
            Mistake(arguments: ["client", "show", "no-such-client"]),
            Mistake(arguments: ["client", "delete", "no-such-client"]),
            Mistake(arguments: ["user", "create", "nobody-\(UInt32.random(in: 0...UInt32.max))", "--password-stdin"], stdin: ""),
            Mistake(arguments: ["user", "create", "admin", "--password-stdin"], stdin: "Duplicate-Pass-42\n", secret: "Duplicate-Pass-42"),
            Mistake(arguments: ["user", "delete", "no-such-user"]),
            Mistake(arguments: ["token", "list", "--state", "SLEEPING"]),
            Mistake(arguments: ["token", "revoke", "not-a-token-Value-42"], secret: "not-a-token-Value-42"),
            Mistake(arguments: ["token", "frobnicate"]),
        ]

        @Test("A mistaken command exits non-zero with a message, echoing no secret", arguments: mistakes)
        func mistakenCommand(_ mistake: Mistake) async throws {
            // Given a running server's deployment
            let server = try sharedServer()

            // When an operator runs the mistaken command
            let result = try await server.run(mistake.arguments, stdin: mistake.stdin)

            // Then it fails, says why on stderr, and repeats no secret
            #expect(result.status != 0, "\(result)")
            #expect(!result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(result)")
            if let secret = mistake.secret {
                #expect(!result.stdout.contains(secret), "\(result)")
                #expect(!result.stderr.contains(secret), "\(result)")
            }
        }
    }
}
