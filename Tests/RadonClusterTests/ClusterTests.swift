import Foundation
import RadonClient
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The cluster of issue 3 with real daemons on loopback. Serialized: each test runs a whole
/// cluster, and the machine has two cores.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ClusterTests {
    static let blockSize = 64 << 10

    /// Every interesting size, written into a tree, renamed, hard-linked, read back byte for byte.
    @Test func filesOfEverySizeRoundTripThroughRenamesAndLinks() async throws {
        try await TestCluster.with(blockSize: Self.blockSize) { cluster in
            let client = try await cluster.client()
            let block = Self.blockSize
            let sizes = [0, 1, 100, 4096, block - 1, block, block + 1, 5 * block + 123, 3 << 20]
            let top = try await client.makeDirectory(parent: 1, name: "top", permissions: 0o755, context: .root)
            let sub = try await client.makeDirectory(parent: top.inode, name: "sub", permissions: 0o755, context: .root)
            var expected: [String: String] = [:]
            for (number, size) in sizes.enumerated() {
                let bytes = patternBytes(count: size, seed: UInt64(number))
                try await client.writeFile(parent: top.inode, name: "file-\(size)", bytes: bytes)
                expected["file-\(size)"] = sha256(bytes)
            }
            // Move half of them down a level, link one twice, rename a directory.
            for size in sizes where size % 2 == 1 {
                try await client.rename(parent: top.inode, name: "file-\(size)", newParent: sub.inode, newName: "moved-\(size)", mode: .replace, context: .root)
            }
            let linked = try await client.lookup(parent: top.inode, name: "file-\(block)", context: .root)
            let link = try await client.link(linked.inode, newParent: sub.inode, newName: "link-\(block)", context: .root)
            #expect(link.linkCount == 2)
            try await client.rename(parent: 1, name: "top", newParent: 1, newName: "renamed", mode: .replace, context: .root)
            await client.close()

            // A second client (close-to-open) reads everything back.
            let reader = try await cluster.client()
            for size in sizes {
                let path = size % 2 == 1 ? "renamed/sub/moved-\(size)" : "renamed/file-\(size)"
                let attributes = try await reader.resolve(path)
                #expect(attributes.size == UInt64(size), "size of \(path)")
                let bytes = try await reader.readFile(attributes.inode)
                #expect(bytes.count == size)
                #expect(sha256(bytes) == expected["file-\(size)"], "content of \(path)")
            }
            let viaLink = try await reader.resolve("renamed/sub/link-\(block)")
            #expect(viaLink.inode == linked.inode)
            #expect(try sha256(await reader.readFile(viaLink.inode)) == expected["file-\(block)"])

            // Overwrite the middle of a multi-block file and truncate another: partial blocks.
            let multi = try await reader.resolve("renamed/sub/moved-\(5 * block + 123)")
            var bytes = patternBytes(count: 5 * block + 123, seed: UInt64(sizes.firstIndex(of: 5 * block + 123)!))
            let patch = patternBytes(count: block + 10, seed: 99)
            let handle = try await reader.open(multi.inode, flags: OpenFlags(read: true, write: true), context: .root)
            _ = try await reader.write(handle, offset: UInt64(block / 2), bytes: patch)
            bytes.replaceSubrange(block / 2..<block / 2 + patch.count, with: patch)
            #expect(try await reader.read(handle, offset: UInt64(block / 2 - 5), count: 20) == Array(bytes[block / 2 - 5..<block / 2 + 15]))
            try await reader.release(handle)
            _ = try await reader.setAttributes(of: multi.inode, AttributeChanges(size: UInt64(2 * block + 7)), handle: nil, context: .root)
            _ = try await reader.setAttributes(of: multi.inode, AttributeChanges(size: UInt64(3 * block)), handle: nil, context: .root)
            var truncated = Array(bytes[0..<2 * block + 7])
            truncated += [UInt8](repeating: 0, count: 3 * block - truncated.count)
            let third = try await cluster.client()
            #expect(try await third.readFile(multi.inode) == truncated, "truncate then extend reads zeros past the cut")
            await reader.close()
            await third.close()
        }
    }

    /// A 100 MiB file, the largest size the issue names.
    @Test func hundredMebibyteFileRoundTrips() async throws {
        try await TestCluster.with(blockSize: 1 << 20) { cluster in
            let client = try await cluster.client()
            let bytes = patternBytes(count: 100 << 20, seed: 7)
            let started = ContinuousClock.now
            let attributes = try await client.writeFile(parent: 1, name: "big", bytes: bytes)
            let written = ContinuousClock.now
            let back = try await cluster.client().readFile(attributes.inode)
            let read = ContinuousClock.now
            print("100 MiB: write \(written - started), read \(read - written)")
            #expect(back.count == bytes.count)
            #expect(sha256(back) == sha256(bytes))
            await client.close()
        }
    }

    /// n-k storage daemons killed: all reads identical; one more: errors, never wrong bytes;
    /// restarted: right again.
    @Test func readsSurviveLostNodesAndFailCleanlyBeyondThem() async throws {
        try await TestCluster.with(blockSize: Self.blockSize) { cluster in
            let writer = try await cluster.client()
            var files: [(inode: UInt64, bytes: [UInt8])] = []
            for (number, size) in [5000, Self.blockSize * 3 + 17, 1 << 20].enumerated() {
                let bytes = patternBytes(count: size, seed: UInt64(100 + number))
                files.append((try await writer.writeFile(parent: 1, name: "f\(number)", bytes: bytes).inode, bytes))
            }
            await writer.close()

            try cluster.killStorage(1)
            try cluster.killStorage(4)
            let degraded = try await cluster.client()
            for file in files {
                #expect(try await degraded.readFile(file.inode) == file.bytes, "with n-k nodes down")
            }
            await degraded.close()

            try cluster.killStorage(2)
            let broken = try await cluster.client()
            var failures = 0
            for file in files {
                do {
                    let bytes = try await broken.readFile(file.inode)
                    Issue.record("read \(bytes.count) bytes with n-k+1 nodes down; must fail")
                    #expect(bytes == file.bytes, "never wrong bytes")
                } catch let error as FileSystemError {
                    #expect(error.errno == EIO, "\(error)")
                    failures += 1
                }
            }
            #expect(failures == files.count)
            await broken.close()

            try cluster.restart()
            let healed = try await cluster.client()
            for file in files {
                #expect(try await healed.readFile(file.inode) == file.bytes, "after the restart")
            }
            await healed.close()
        }
    }

    /// The metadata service SIGKILLed in the middle of creates and writes, and restarted two
    /// seconds later: the client rides through (no call fails), and every file is there once,
    /// with its bytes.
    @Test func writesRideThroughAMetadataServiceCrashAndRestart() async throws {
        try await TestCluster.with(blockSize: Self.blockSize) { cluster in
            let client = try await cluster.client()
            var acknowledged: [String: [UInt8]] = [:]
            var restart: Task<Void, any Error>?
            var longest = Duration.zero
            for number in 0..<60 {
                if number == 20 {
                    try cluster.killMeta()
                    restart = Task.detached {
                        try await Task.sleep(for: .seconds(2))
                        try cluster.restart()
                    }
                }
                let bytes = patternBytes(count: number % 3 == 0 ? 1000 : Self.blockSize + number * 1000, seed: UInt64(number))
                let started = ContinuousClock.now
                try await client.writeFile(parent: 1, name: "stream-\(number)", bytes: bytes)
                longest = max(longest, ContinuousClock.now - started)
                acknowledged["stream-\(number)"] = bytes
            }
            try await restart?.value
            print("longest write through the metadata restart: \(longest)")
            #expect(longest >= .seconds(2), "the writes did meet the outage")
            #expect(acknowledged.count == 60)
            await client.close()
            let reader = try await cluster.client()
            let (meta, pool) = try await cluster.meta()
            let names = try await meta.readDirectory(1).map { String(decoding: $0.name.bytes, as: UTF8.self) }
            await pool.closeAll()
            #expect(names.filter { $0.hasPrefix("stream-") }.count == 60, "each file once")
            for (name, bytes) in acknowledged {
                let attributes = try await reader.lookup(parent: 1, name: FileName(name), context: .root)
                #expect(try await reader.readFile(attributes.inode) == bytes, "\(name)")
            }
            await reader.close()
        }
    }

    /// A fragment rotted on disk: the read is still right, and the fragment is rewritten.
    @Test func corruptFragmentIsReadAroundAndRepaired() async throws {
        try await TestCluster.with(blockSize: Self.blockSize) { cluster in
            let client = try await cluster.client()
            let bytes = patternBytes(count: Self.blockSize * 2, seed: 5)
            let inode = try await client.writeFile(parent: 1, name: "rot", bytes: bytes).inode
            await client.close()

            let found = try Self.fragmentFile(inode: inode, index: 0, in: cluster)
            let fragmentFile = try #require(found, "fragment 0 on disk")
            let original = try Data(contentsOf: URL(fileURLWithPath: fragmentFile))
            var rotten = original
            // Flip bytes inside slot 0's fragment data (past any header).
            for offset in stride(from: 200, to: min(rotten.count, 4000), by: 97) { rotten[offset] ^= 0xFF }
            try rotten.write(to: URL(fileURLWithPath: fragmentFile))

            let reader = try await cluster.client()
            #expect(try await reader.readFile(inode) == bytes)
            var repaired = false
            for _ in 0..<50 where !repaired {
                try await Task.sleep(for: .milliseconds(100))
                repaired = (try? Data(contentsOf: URL(fileURLWithPath: fragmentFile))) == original
            }
            #expect(repaired, "the fragment file holds the good fragment again")
            await reader.close()
        }
    }

    /// One storage daemon's disk full: writes still land on the others (acknowledged, readable
    /// with another node lost); two full: a clear ENOSPC and nothing acknowledged lost.
    @Test(.enabled(if: getuid() == 0, "needs root to mount small tmpfs disks"))
    func fullDisksNeverLoseAcknowledgedWrites() async throws {
        let smallDisks = [4, 5]
        try await TestCluster.with(blockSize: Self.blockSize, prepare: { directory in
            for index in smallDisks {
                let path = "\(directory)/storage/node-\(index)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                guard Self.shell("mount -t tmpfs -o size=\(index == 5 ? 3 : 12)m tmpfs \(path)") == 0 else {
                    throw TestFailure("cannot mount a tmpfs on \(path)")
                }
            }
        }, cleanup: { directory in
            for index in smallDisks { _ = Self.shell("umount -l \(directory)/storage/node-\(index)") }
        }) { cluster in
            let client = try await cluster.client()
            // About 5 MiB per node: node 5 (3 MiB) fills up, node 4 (12 MiB) does not.
            let first = patternBytes(count: 20 << 20, seed: 11)
            let firstInode = try await client.writeFile(parent: 1, name: "fits-elsewhere", bytes: first).inode
            // Now node 4 fills too: fewer than k+1 nodes can take the next blocks.
            let second = patternBytes(count: 40 << 20, seed: 12)
            do {
                try await client.writeFile(parent: 1, name: "too-big", bytes: second)
                Issue.record("a write reaching only k nodes must not be acknowledged")
            } catch let error as FileSystemError {
                #expect(error.errno == ENOSPC, "\(error)")
            }
            await client.close()
            try cluster.killStorage(0)
            let reader = try await cluster.client()
            #expect(try await reader.readFile(firstInode) == first, "acknowledged data survives a full node and a dead one")
            await reader.close()
        }
    }

    static func fragmentFile(inode: UInt64, index: Int, in cluster: TestCluster) throws -> String? {
        for node in try cluster.state().storage {
            guard let enumerator = FileManager.default.enumerator(atPath: node.dataPath) else { continue }
            for case let path as String in enumerator where path.hasSuffix("/\(inode).\(index)") {
                return "\(node.dataPath)/\(path)"
            }
        }
        return nil
    }

    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
