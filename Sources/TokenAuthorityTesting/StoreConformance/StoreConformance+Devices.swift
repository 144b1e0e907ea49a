import Foundation
import Testing
import TokenAuthority

// The device authorization grant's rows (RFC 8628; docs/device-sign-in.md).
extension StoreConformance {
    static let deviceChecks: [StoreCheck] = [
        StoreCheck("a device request is pending, then approved once, then redeemed by exactly one poll") { fixture in
            let store = fixture.store
            try await store.createDeviceAuthorization(request(1))
            #expect(
                try await store.pendingDeviceAuthorization(userCodeDigest: user(1), at: 2000)
                    == PendingDeviceAuthorization(clientID: "app", scope: "device_tv", expiresAt: 601_000))
            #expect(try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 2000) == .pending)
            #expect(try await store.decideDeviceAuthorization(userCodeDigest: user(1), approvedBy: "alice", authTime: 1500, at: 3000))
            #expect(try await !store.decideDeviceAuthorization(userCodeDigest: user(1), approvedBy: nil, authTime: nil, at: 3001))
            #expect(try await store.pendingDeviceAuthorization(userCodeDigest: user(1), at: 3002) == nil)
            // Another client's poll learns nothing
            #expect(try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "other", at: 9000) == .invalid)
            let other = try await fixture.harness.open()
            defer { Task { try? await other.close() } }
            let stores: [any TokenDatabase] = [store, other]
            let polls = try await withThrowingTaskGroup(of: DevicePoll.self) { group in
                for index in 0..<6 {
                    let store = stores[index % 2]
                    group.addTask { try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 9000) }
                }
                return try await group.reduce(into: [DevicePoll]()) { $0.append($1) }
            }
            #expect(polls.filter { $0 == .approved(username: "alice", scope: "device_tv", authTime: 1500) }.count == 1, "\(polls)")
            #expect(polls.filter { $0 == .invalid }.count == 5)
        },
        StoreCheck("polling faster than the interval is slow_down and adds 5 s; denied and expired requests say so") { fixture in
            let store = fixture.store
            try await store.createDeviceAuthorization(request(1))
            #expect(try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 2000) == .pending)
            #expect(
                try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 6999)
                    == .slowDown(intervalSeconds: 10))
            #expect(
                try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 15_000)
                    == .slowDown(intervalSeconds: 15))
            #expect(try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 30_000) == .pending)
            try await store.createDeviceAuthorization(request(2))
            #expect(try await store.decideDeviceAuthorization(userCodeDigest: user(2), approvedBy: nil, authTime: nil, at: 3000))
            #expect(try await store.pollDeviceAuthorization(deviceCodeDigest: device(2), clientID: "app", at: 9000) == .denied)
            #expect(try await store.pollDeviceAuthorization(deviceCodeDigest: device(1), clientID: "app", at: 601_000) == .expired)
            #expect(try await !store.decideDeviceAuthorization(userCodeDigest: user(1), approvedBy: "alice", authTime: 1, at: 601_000))
        },
        StoreCheck("cleanup deletes device requests expired, and failure windows older, than retain ago") { fixture in
            let store = fixture.store
            try await store.createDeviceAuthorization(request(1))
            _ = try await store.recordUserCodeFailure(source: "10.0.0.1", windowStart: 60_000)
            #expect(try await store.purgeTokens(now: 603_000, retainFor: 3000) == TokenPurgeCount())
            #expect(try await store.purgeTokens(now: 604_001, retainFor: 3000) == TokenPurgeCount(deviceAuthorizations: 1))
            #expect(try await fixture.count("SELECT count(*) FROM device_user_code_failures") == 0)
        },
        StoreCheck("wrong user codes are counted per source and in total, per window, in the database") { fixture in
            let store = fixture.store
            var counts: [String] = []
            for (source, window) in [("10.0.0.1", 60_000), ("10.0.0.1", 60_000), ("10.0.0.2", 60_000), ("10.0.0.1", 120_000)] {
                let count = try await store.recordUserCodeFailure(source: source, windowStart: EpochMilliseconds(window))
                counts.append("\(count.source)/\(count.total)")
            }
            #expect(counts == ["1/1", "2/2", "1/3", "1/1"])
        },
    ]

    /// A request of `app` for `device_tv`, issued at 1 000 for 600 s with a 5 s interval;
    /// its codes' digests are 32 bytes of `byte` and of `byte + 100`.
    static func request(_ byte: UInt8) -> NewDeviceAuthorization {
        NewDeviceAuthorization(
            deviceCodeDigest: device(byte), userCodeDigest: user(byte), clientID: "app", scope: "device_tv",
            intervalSeconds: 5, issuedAt: 1000, expiresAt: 601_000)
    }

    static func device(_ byte: UInt8) -> [UInt8] { Array(repeating: byte, count: 32) }
    static func user(_ byte: UInt8) -> [UInt8] { Array(repeating: byte + 100, count: 32) }
}
