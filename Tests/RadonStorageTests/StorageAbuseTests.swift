#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import RadonTestSupport
import RadonWire
import Testing

/// A real storage daemon process under two abuses at once: a peer that pipelines reads of
/// 1 MiB fragments and never reads the replies, and a flood of sockets that never
/// authenticate. Its memory stays under a stated bound and another client is served meanwhile.
@Suite struct StorageAbuseTests {
    /// What the daemon may grow by, over its resident size before the abuse: the slow reader's
    /// 4 MiB pause threshold plus its 64 requests in flight (1 MiB each), 300 sockets' buffers,
    /// and allocator slack. Before backpressure counted unsent replies it read every request
    /// and held 256 replies at once, and far more as they drained into memory.
    static let growthBound = 160 << 20

    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: RadonBinary.path), "needs the radonfs binary of this build"))
    func aSlowReaderAndAFloodOfSilentSocketsHoldTheDaemonsMemoryUnderItsBound() async throws {
        let directory = temporaryDirectory("abuse")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try await StorageProcess.start(directory: directory)
        defer { storage.killIfRunning() }
        let (daemon, key, logPath, pid) = (storage.address, storage.key, storage.logPath, storage.process.processIdentifier)

        // 8 fragments of 1 MiB to read back.
        let fragment = 1 << 20
        let client = StorageClient(connection: try await WireConnection.connect(to: daemon, credentials: .sharedKey(key)))
        for block in 0..<8 {
            try await client.writeFragments(group: 1, inode: 5, fragmentIndex: 0, fragmentCapacity: UInt32(fragment), slots: [
                (blockIndex: UInt64(block), version: 1, effectiveLength: UInt32(fragment), bytes: fragmentBytes(block: UInt64(block), version: 1, count: fragment)),
            ])
        }
        _ = try await client.readFragments(group: 1, inode: 5, fragmentIndex: 0, blockRange: 0..<8)
        let idle = try #require(Self.residentBytes(of: pid))

        // The slow reader: 1000 reads of one 1 MiB fragment each, pipelined, never read.
        let slowReader = try await WireProbe.connect(to: daemon)
        #expect(await slowReader.authenticate(with: key))
        await slowReader.stopReading()
        let request = ReadFragmentsRequest(file: FragmentFileKey(group: 1, inode: 5, fragmentIndex: 0), blocks: .indices([3])).encoded()
        for id in 1...1000 {
            await slowReader.sendFrame(opcode: StorageOpcode.readFragments.rawValue, requestID: UInt64(id), payload: request)
        }
        // The flood: 300 sockets that connect and say nothing.
        var flood: [WireProbe] = []
        for _ in 0..<300 {
            if let probe = try? await WireProbe.connect(to: daemon) { flood.append(probe) }
        }

        // Meanwhile another client is served, every time.
        var peak = idle
        for block in 0..<8 {
            let result = try await client.readFragments(group: 1, inode: 5, fragmentIndex: 0, blockIndices: [UInt64(block)])
            #expect(result.first?.fragment.bytesArray == fragmentBytes(block: UInt64(block), version: 1, count: fragment))
            peak = max(peak, Self.residentBytes(of: pid) ?? 0)
            try await Task.sleep(for: .milliseconds(200))
        }
        // Unauthenticated sockets are closed within the 2 s authentication timeout.
        let closed = await withTaskGroup(of: Bool.self) { group in
            for probe in flood { group.addTask { await probe.waitUntilClosed(timeout: .seconds(6)) } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(closed == flood.count)
        peak = max(peak, Self.residentBytes(of: pid) ?? 0)
        #expect(peak - idle < Self.growthBound, "grew by \((peak - idle) >> 20) MiB")
        print("storage daemon under abuse: idle \(idle >> 20) MiB, peak \(peak >> 20) MiB (bound: +\(Self.growthBound >> 20) MiB), \(closed) silent sockets closed")

        // Refusals are logged at a bounded rate, not a line per socket.
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        let refusals = log.split(separator: "\n").filter { $0.contains("connection closed: no authentication") || $0.contains("connection refused") }
        #expect(refusals.count <= 20, "\(refusals.count) refusal lines")
        slowReader.close()
        client.connection.close()
    }
}
