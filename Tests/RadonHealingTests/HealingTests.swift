import Foundation
import RadonClient
@testable import RadonStorage
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Fault injection against real daemons on loopback: kills, lost nodes, rebuild, resync, rot.
@Suite(.serialized) struct HealingTests {
    /// Files of a few blocks and odd tails (64 KiB blocks), written and remembered by digest.
    static func writeFiles(_ client: RadonFileSystemClient, count: Int, prefix: String, seed: UInt64) async throws -> [String: String] {
        var digests: [String: String] = [:]
        for index in 0..<count {
            let size = (3 + index % 6) * (64 << 10) + (index * 4_099) % (64 << 10)
            let bytes = patternBytes(count: size, seed: seed + UInt64(index))
            let name = "\(prefix)-\(index)"
            try await client.store(name, bytes)
            digests[name] = sha256(bytes)
        }
        return digests
    }

    static func expectIdentical(_ client: RadonFileSystemClient, _ digests: [String: String]) async throws {
        for (name, expected) in digests.sorted(by: { $0.key < $1.key }) {
            let bytes = try await client.load(name)
            #expect(sha256(bytes) == expected, "\(name) read back different bytes")
        }
    }

    @Test("a lost node's groups are rebuilt on spares; then two more nodes die and everything still reads back")
    func lostNodeRebuildRestoresRedundancy() async throws {
        try await HealingCluster.with(nodes: 7, lostAfter: 8) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            let digests = try await Self.writeFiles(client, count: 10, prefix: "before", seed: 100)
            let lostID = try await cluster.nodeID(ofStorage: 0)
            try cluster.killStorage(0)
            try await cluster.wait("node \(lostID) to be lost") { meta in
                try await meta.nodes().first { $0.id == lostID }?.state == .lost
            }
            let jobs = try await cluster.waitForRebuild()
            #expect(jobs.allSatisfy { $0.state == .done }, "jobs: \(jobs.filter { $0.state != .done }.map(\.message))")
            #expect(jobs.reduce(0) { $0 + $1.fixed } > 0, "the rebuild wrote nothing")
            let (meta, pool) = try await cluster.meta()
            let map = try await meta.groupMap()
            await pool.closeAll()
            #expect(map.groups.allSatisfy { !$0.members.contains(lostID) }, "node \(lostID) is still in the map")
            let status = try cluster.run(["status", "--dir", cluster.directory])
            #expect(status.contains("rebuild done"), "status: \(status)")

            // Full redundancy is back: two more failures (n-k for 4+2) lose nothing.
            try cluster.killStorage(1)
            try cluster.killStorage(2)
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await Self.expectIdentical(reader, digests)
        }
    }

    @Test("a storage daemon SIGKILLed during writes: every acknowledged byte reads back; it is resynced when back")
    func killDuringWriteLoad() async throws {
        try await HealingCluster.with(nodes: 6) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            var digests = try await Self.writeFiles(client, count: 3, prefix: "early", seed: 1)
            for round in 0..<4 {
                async let written = Self.writeFiles(client, count: 3, prefix: "load\(round)", seed: 10 + UInt64(round) * 10)
                // The kill lands while round 1's writes are in flight (a fixed delay did not:
                // once writes got faster, they could all finish before it), and rounds 2 and 3
                // are written with the node dead, so it surely misses writes.
                if round == 1 { try cluster.killStorage(3) }
                digests.merge(try await written) { _, new in new }
                // Reads keep working meanwhile.
                #expect(sha256(try await client.load("early-0")) == digests["early-0"])
            }
            try await Self.expectIdentical(client, digests)

            // The node comes back: its groups are resynchronised by block version.
            try cluster.run(["up", "--dir", cluster.directory, "--no-mount"])
            // (Attempts made while the node was still dead end failed and are retried.)
            let jobs = try await cluster.waitForRebuild().filter { $0.state == .done }
            let found = jobs.reduce(0) { $0 + $1.found }
            #expect(found > 0, "the returning node missed writes, the resync found none")
            #expect(jobs.reduce(0) { $0 + $1.fixed } == found)

            // Proof: two other nodes die, and what was written while node 3 was away still reads.
            try cluster.killStorage(4)
            try cluster.killStorage(5)
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await Self.expectIdentical(reader, digests)
        }
    }

    @Test("bytes flipped in fragment files: one scrub finds and fixes every one, reads stay correct")
    func scrubRepairsFlippedBytes() async throws {
        try await HealingCluster.with(nodes: 6) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            let digests = try await Self.writeFiles(client, count: 6, prefix: "rot", seed: 7)
            let injected = try FragmentRot.flip(count: 12, under: "\(cluster.directory)/storage", seed: 42)
            #expect(injected == 12)

            let output = try cluster.run(["scrub", "--dir", cluster.directory, "--json"])
            let result = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            #expect(result?["found"] as? Int == injected, "scrub said \(output)")
            #expect(result?["fixed"] as? Int == injected, "scrub said \(output)")

            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await Self.expectIdentical(reader, digests)
            let again = try cluster.run(["scrub", "--dir", cluster.directory, "--json"])
            let second = try JSONSerialization.jsonObject(with: Data(again.utf8)) as? [String: Any]
            #expect(second?["found"] as? Int == 0, "a second scrub said \(again)")
        }
    }
}

/// Flips one byte in the fragment bytes of distinct written slots of fragment files on disk.
enum FragmentRot {
    /// Every fragment file (`g<group>/<inode>.<fragment>`) under `root`, sorted.
    static func fragmentFiles(under root: String) -> [String] {
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let parts = relative.split(separator: "/")
            guard parts.count >= 2, parts[parts.count - 2].hasPrefix("g"),
                  parts.last!.split(separator: ".").count == 2, parts.last!.split(separator: ".").allSatisfy({ UInt64($0) != nil }) else { continue }
            files.append("\(root)/\(relative)")
        }
        return files.sorted()
    }

    static func flip(count: Int, under root: String, seed: UInt64) throws -> Int {
        let files = fragmentFiles(under: root)
        var random = seed
        func next() -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33)
        }
        var chosen = Set<String>()
        var flipped = 0
        var attempts = 0
        while flipped < count, attempts < 10_000, !files.isEmpty {
            attempts += 1
            let path = files[next() % files.count]
            let descriptor = open(path, O_RDWR)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var header = [UInt8](repeating: 0, count: FragmentFileHeader.length)
            let size = lseek(descriptor, 0, SEEK_END)
            guard pread(descriptor, &header, header.count, 0) == header.count, let layout = FragmentFileHeader(header) else { continue }
            let capacity = Int(layout.fragmentCapacity)
            let slots = (Int(size) - FragmentFileHeader.length) / layout.slotSize
            guard capacity > 0, slots > 0 else { continue }
            let slot = next() % slots
            guard chosen.insert("\(path)#\(slot)").inserted else { continue }
            // A byte of the fragment's room in the slot (the slot's own layout: header, bytes, chunk table).
            let offset = off_t(try #require(layout.offset(ofBlock: UInt64(slot))) + SlotHeader.length + next() % capacity)
            var byte: UInt8 = 0
            guard pread(descriptor, &byte, 1, offset) == 1 else { continue }
            byte ^= UInt8(1 << (next() % 8))
            guard pwrite(descriptor, &byte, 1, offset) == 1 else { continue }
            flipped += 1
        }
        return flipped
    }
}
