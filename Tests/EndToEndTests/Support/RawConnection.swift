import Foundation
import HTTPTypes
import Synchronization
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A raw TCP connection to a plain-HTTP server, for what no HTTP client library
// sends: a request from a chosen source address, a head cut in half, a body that
// drips one byte at a time, a header far over the limit. Every call blocks a thread
// of its own, never a Swift concurrency thread, and waits at most its timeout.

/// How a wait on a raw connection ended.
enum RawWait: Sendable, Equatable, CustomStringConvertible {
    /// The server closed the connection (EOF or reset) after that long.
    case closed(after: Duration)
    /// Still open when the wait gave up.
    case stillOpen

    var description: String {
        switch self {
        case .closed(let after): "closed after \(after)"
        case .stillOpen: "still open"
        }
    }

    var closedAfter: Duration? {
        if case .closed(let after) = self { return after }
        return nil
    }
}

final class RawConnection: Sendable {
    private let descriptor: Int32
    /// Bytes read but not yet handed out (the start of a next response).
    private let pending = Mutex<[UInt8]>([])
    private let isClosed = Atomic<Bool>(false)

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close()
    }

    /// Connects to `host:port` over IPv4, from `source` (an address of this host, such as
    /// 127.0.0.2 on Linux's loopback) when given.
    static func open(port: Int, host: String = "127.0.0.1", from source: String? = nil) async throws -> RawConnection {
        try await blockingThrowing {
            #if os(Linux)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard descriptor >= 0 else { throw RawConnectionError("socket: \(errnoText())") }
            let connection = RawConnection(descriptor: descriptor)
            #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if let source {
                var local = try socketAddress(source, port: 0)
                let bound = withUnsafePointer(to: &local) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard bound == 0 else { throw RawConnectionError("bind \(source): \(errnoText())") }
            }
            var remote = try socketAddress(host, port: port)
            let connected = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw RawConnectionError("connect \(host):\(port): \(errnoText())") }
            return connection
        }
    }

    func close() {
        if !isClosed.exchange(true, ordering: .acquiringAndReleasing) {
            _ = systemClose(descriptor)
        }
    }

    // MARK: - Writing

    /// Sends all of `bytes`; false when the server has closed or reset the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        await Self.blocking { self.sendNow(bytes) }
    }

    @discardableResult
    func send(_ text: String) async -> Bool {
        await send(Array(text.utf8))
    }

    private func sendNow(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { buffer in
                #if os(Linux)
                Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
                #else
                Darwin.send(descriptor, buffer.baseAddress, buffer.count, 0)
                #endif
            }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    // MARK: - Reading

    /// Reads one response: its head, then a `Content-Length` body, or everything up to
    /// the connection's end when there is no length. Nil when the connection ended, or
    /// `timeout` passed, before a whole response arrived.
    func readResponse(timeout: Duration = .seconds(30)) async -> HTTPReply? {
        await Self.blocking { self.readResponseNow(timeout: timeout) }
    }

    /// Waits until the server closes the connection, reading (and dropping) whatever it
    /// sends meanwhile; gives up after `timeout`. The time counts from this call.
    func waitForClose(timeout: Duration) async -> RawWait {
        await Self.blocking {
            let started = ContinuousClock.now
            let deadline = started.advanced(by: timeout)
            while true {
                switch self.readSome(until: deadline) {
                case .data(let bytes): self.pending.withLock { $0 += bytes }
                case .end: return .closed(after: ContinuousClock.now - started)
                case .timedOut: return .stillOpen
                }
            }
        }
    }

    /// Whether the server has closed the connection, checked without waiting.
    func isClosedByServer() async -> Bool {
        await waitForClose(timeout: .zero) != .stillOpen
    }

    private enum ReadResult {
        case data([UInt8])
        case end
        case timedOut
    }

    private func readSome(until deadline: ContinuousClock.Instant) -> ReadResult {
        while true {
            let left = deadline - ContinuousClock.now
            let milliseconds = max(0, Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 60_000)))
            var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptors, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            if ready < 0 { return .end }
            if ready == 0 {
                if ContinuousClock.now >= deadline { return .timedOut }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return .end }  // EOF, or ECONNRESET
            return .data(Array(buffer[..<count]))
        }
    }

    private func readResponseNow(timeout: Duration) -> HTTPReply? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var bytes = pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var ended = false
        func more() -> Bool {
            switch readSome(until: deadline) {
            case .data(let data):
                bytes += data
                return true
            case .end:
                ended = true
                return false
            case .timedOut:
                return false
            }
        }
        var headEnd: Int?
        while headEnd == nil {
            headEnd = bytes.firstRange(of: separator)?.upperBound
            if headEnd == nil, !more() { return nil }
        }
        guard let headEnd else { return nil }
        let headLines = String(decoding: bytes[..<(headEnd - 4)], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = headLines.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
        var headers = HTTPFields()
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            headers.append(HTTPField(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        // An interim (1xx) response has no body: the final one follows it (RFC 9110 §15.2).
        let length = (100..<200).contains(status)
            ? 0 : headers[.contentLength].flatMap { Int($0) }
        if let length {
            while bytes.count < headEnd + length {
                if !more() { return nil }
            }
            let rest = Array(bytes[(headEnd + length)...])
            pending.withLock { $0 = rest + $0 }
            return HTTPReply(
                status: status, headers: headers,
                body: String(decoding: bytes[headEnd..<(headEnd + length)], as: UTF8.self))
        }
        while !ended {
            if !more(), !ended { return nil }
        }
        return HTTPReply(status: status, headers: headers, body: String(decoding: bytes[headEnd...], as: UTF8.self))
    }

    // MARK: - Helpers

    /// Runs blocking work on a thread of its own and waits for it without blocking the
    /// caller's thread. Not on GCD's global queues: they run no more items at once than
    /// the machine has cores, so a few connections waiting for the server would hold up
    /// every other connection's reads and writes.
    private static func blockingThrowing<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try work() }) }.start()
        }
    }

    private static func blocking<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }

    private static func socketAddress(_ host: String, port: Int) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw RawConnectionError("not an IPv4 address: \(host)") }
        return address
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

private func systemClose(_ descriptor: Int32) -> Int32 {
    #if os(Linux)
    Glibc.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}

/// The bytes of an HTTP/1.1 request: `Host`, then `headers`, then `Content-Length` when
/// there is a body, then `Connection: close` when `close`.
func rawRequest(
    _ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil, close: Bool = true
) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if let body { head += "Content-Length: \(body.utf8.count)\r\n" }
    if close { head += "Connection: close\r\n" }
    return Array((head + "\r\n" + (body ?? "")).utf8)
}

extension RawConnection {
    /// One request on a fresh connection from `source`, and its response.
    static func exchange(port: Int, from source: String? = nil, _ request: [UInt8]) async throws -> HTTPReply? {
        let connection = try await open(port: port, from: source)
        defer { connection.close() }
        guard await connection.send(request) else { return nil }
        return await connection.readResponse()
    }
}
