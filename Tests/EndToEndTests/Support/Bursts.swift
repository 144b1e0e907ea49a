import Foundation
import TokenAuthorityTesting

// Bursts of simultaneous requests over raw connections: every connection is open
// before the first request is sent, every request is sent before the first answer
// is read, so the server has them all in hand at once, as it would from a client
// that fires a hundred requests in parallel.

/// Sends `requests` at once, each on a connection of its own from `source` (an address
/// of this host; 127.0.0.1 when nil), and reads every answer.
/// - Returns: the answers in the order of `requests`; nil where the connection ended,
///   or `timeout` passed, before a whole answer arrived.
func burst(
    _ requests: [[UInt8]], port: Int, from source: String? = nil, timeout: Duration = .seconds(60)
) async throws -> [HTTPReply?] {
    // Every connection first: no request waits for another's connect.
    var connections: [RawConnection] = []
    connections.reserveCapacity(requests.count)
    defer { for connection in connections { connection.close() } }
    for _ in requests {
        connections.append(try await RawConnection.open(port: port, from: source))
    }
    let open = connections

    // Then every request, all at once.
    await withTaskGroup(of: Void.self) { group in
        for (connection, request) in zip(open, requests) {
            group.addTask { await connection.send(request) }
        }
    }

    // Then every answer, read side by side (each read blocks a thread of its own).
    return await withTaskGroup(of: (Int, HTTPReply?).self) { group in
        for (index, connection) in open.enumerated() {
            group.addTask { (index, await connection.readResponse(timeout: timeout)) }
        }
        var responses = [HTTPReply?](repeating: nil, count: requests.count)
        for await (index, response) in group { responses[index] = response }
        return responses
    }
}

/// How many answers had each status ("none" for no answer), e.g. `400: 30, 429: 50`:
/// statuses and counts only, never a body.
func statusTally(_ responses: [HTTPReply?]) -> String {
    let counts = Dictionary(grouping: responses) { $0.map { "\($0.status)" } ?? "none" }.mapValues(\.count)
    return counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
}
