import ArgumentParser
import Foundation
import TokenAuthority

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage resource owners for the password grant.",
        subcommands: [Create.self, List.self, Delete.self, Unlock.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; the password is prompted for without echo.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The username.") var username: String
        @Flag(help: "Read the password as one line from standard input.") var passwordStdin = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try await options.openStore()
            let existing = try await store.users().map(\.username)
            if let problem = IdentifierRules.usernameProblem(username, existing: existing) {
                throw CommandError("USERNAME: \(problem)")
            }
            let password = try passwordStdin ? PasswordInput.readLine() : PasswordInput.prompt("Password for \(username): ")
            guard !password.isEmpty else { throw CommandError("the password must not be empty") }
            let hash = try await PasswordHasher().hash(password)
            try await store.createUser(User(username: username, passwordHash: hash, createdAt: Clock.system.now()))
            if json { return try printJSON(["username": username]) }
            print("created user \(username)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await options.openStore().users()
            let now = Clock.system.now()
            if json {
                return try printJSON(
                    users.map { user in
                        var fields = ["username": user.username, "created_at": iso8601(user.createdAt)]
                        if user.isLocked(at: now), let until = user.lockedUntil { fields["locked_until"] = iso8601(until) }
                        return fields
                    })
            }
            for user in users {
                let lock = user.isLocked(at: now) ? user.lockedUntil.map { "\tlocked until \(iso8601($0))" } ?? "" : ""
                print("\(user.username)\t\(iso8601(user.createdAt))\(lock)")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user and every token issued for them.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The username.") var username: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard try await options.openStore().deleteUser(named: username) else {
                throw CommandError("no user named '\(username)'")
            }
            if json { return try printJSON(["deleted": username]) }
            print("deleted user \(username)")
        }
    }
}

extension UserCommand {
    /// Unlocks an account locked by `[security.account_locking]` before its time.
    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unlock an account locked after failed logins, and forget its failures.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The username.") var username: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard try await options.openStore().clearFailedLogins(username: username) else {
                throw CommandError("no user named '\(username)'")
            }
            if json { return try printJSON(["unlocked": username]) }
            print("unlocked user \(username)")
        }
    }
}

/// Reading a password: one line from stdin, or a prompt with echo off.
enum PasswordInput {
    static func readLine() throws -> String {
        try SecretInput.readLine(what: "--password-stdin")
    }

    static func prompt(_ text: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandError("standard input is not a terminal: use --password-stdin to pipe the password")
        }
        FileHandle.standardError.write(Data(text.utf8))
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return try readLine()
    }
}

/// A secret read from standard input rather than argv, where `ps` and shell
/// history would show it.
enum SecretInput {
    /// One line, its line ending (`\n` or `\r\n`) stripped.
    static func readLine(what option: String) throws -> String {
        guard let line = Swift.readLine(strippingNewline: true) else {
            throw CommandError("\(option): standard input is empty")
        }
        return line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}
