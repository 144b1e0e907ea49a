import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a shell command line through system(3) on a thread of its own and returns its
/// exit status and output (stdout and stderr together). For commands that leave a
/// daemon behind (`pg_ctl start`, `nginx`): Foundation's `Process` was seen never to
/// report their exit inside the test process. Waiting blocks no concurrency thread.
/// The command line is the test's own making (paths and ports), never input.
public func runShell(_ commandLine: String) async -> (status: Int32, output: String) {
    let log = NSTemporaryDirectory() + "token-authority-shell-\(UUID().uuidString).log"
    defer { try? FileManager.default.removeItem(atPath: log) }
    let command = "( \(commandLine) ) >'\(log)' 2>&1 </dev/null"
    let status: Int32 = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: system(command)) }.start()
    }
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return (status == -1 ? -1 : (status >> 8) & 0xff, output)
}

/// A TCP port of 127.0.0.1 that nothing listens on at this moment (the kernel's choice for port 0).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestDatabaseError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    guard bound else { throw TestDatabaseError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
