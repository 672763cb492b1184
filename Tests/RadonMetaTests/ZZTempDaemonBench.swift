import Foundation
import RadonTestSupport
import RadonWire
import Testing

/// Temporary (not committed): create+stat+unlink through a running `radonfs meta`.
@Suite struct ZZTempDaemonBench {
    @Test func rate() async throws {
        guard let spec = ProcessInfo.processInfo.environment["BENCH_META"] else { return }
        let parts = spec.split(separator: ",")
        let key = try ClusterKey(contentsOf: String(parts[1]))
        let connection = try await WireConnection.connect(to: WireAddress(String(parts[0]))!, key: key)
        let client = MetaClient(connection: connection, timeout: .seconds(30))
        let directory = try await client.makeDirectory(parent: 1, name: FileName("bench-\(UUID().uuidString.prefix(6))"), permissions: 0o755, caller: .root)
        let count = Int(ProcessInfo.processInfo.environment["BENCH_COUNT"] ?? "500")!
        let createStart = ContinuousClock.now
        for index in 0..<count {
            _ = try await client.create(parent: directory.inode, name: FileName("c\(index)"), permissions: 0o644, exclusive: true, caller: .root)
        }
        let creates = ContinuousClock.now - createStart
        let start = ContinuousClock.now
        for index in 0..<count {
            let created = try await client.create(parent: directory.inode, name: FileName("f\(index)"), permissions: 0o644, exclusive: true, caller: .root)
            _ = try await client.attributes(of: created.attributes.inode)
        }
        for index in 0..<count { try await client.remove(parent: directory.inode, name: FileName("f\(index)"), caller: .root) }
        let sequential = ContinuousClock.now - start
        let parallelStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<16 {
                group.addTask {
                    for index in stride(from: lane, to: count, by: 16) {
                        let created = try await client.create(parent: directory.inode, name: FileName("p\(index)"), permissions: 0o644, exclusive: true, caller: .root)
                        _ = try await client.attributes(of: created.attributes.inode)
                        try await client.remove(parent: directory.inode, name: FileName("p\(index)"), caller: .root)
                    }
                }
            }
            try await group.waitForAll()
        }
        let parallel = ContinuousClock.now - parallelStart
        let parallelCreateStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<16 {
                group.addTask {
                    for index in stride(from: lane, to: count, by: 16) {
                        _ = try await client.create(parent: directory.inode, name: FileName("q\(index)"), permissions: 0o644, exclusive: true, caller: .root)
                    }
                }
            }
            try await group.waitForAll()
        }
        let parallelCreates = ContinuousClock.now - parallelCreateStart
        func rate(_ d: Duration) -> Int { Int(Double(count) / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)) }
        print("DAEMONBENCH \(spec): creates \(rate(creates))/s sequential, \(rate(parallelCreates))/s 16 in flight; create+stat+unlink \(rate(sequential))/s sequential, \(rate(parallel))/s 16 in flight")
        connection.close()
    }
}
