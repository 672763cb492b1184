import Foundation
import RadonClient
import RadonTestSupport
import Testing

/// Small files kept in the inode (threshold 4096 bytes) against a real cluster: growing them
/// past the threshold by truncation, and keeping an mtime set before close.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct InlineFileTests {
    static let inlineThreshold = 4096
    static let grownSize = 5000

    /// `printf abc > f; truncate -s 5000 f` (no handle open) and the same through an open handle
    /// holding unflushed bytes (ftruncate, as sqlite's WAL does), then more writes past the old
    /// threshold: every view reads the old bytes then zeros.
    @Test func inlineFileGrowsPastThresholdByTruncation() async throws {
        try await TestCluster.with { cluster in
            let client = try await cluster.client()
            let prefix = Array("abc".utf8)

            let closed = try await client.writeFile(parent: 1, name: "closed", bytes: prefix)
            let grown = try await client.setAttributes(of: closed.inode, AttributeChanges(size: UInt64(Self.grownSize)), handle: nil, context: .root)
            #expect(grown.size == UInt64(Self.grownSize))
            let expected = prefix + [UInt8](repeating: 0, count: Self.grownSize - prefix.count)
            #expect(try await client.readFile(closed.inode) == expected)

            let createdFile = try await client.create(
                parent: 1, name: "open", permissions: 0o644, flags: OpenFlags(read: true, write: true), exclusive: false, context: .root)
            let (open, handle) = (createdFile.attributes, createdFile.handle)
            _ = try await client.write(handle, offset: 0, bytes: prefix)
            let truncated = try await client.setAttributes(of: open.inode, AttributeChanges(size: UInt64(Self.grownSize)), handle: handle, context: .root)
            #expect(truncated.size == UInt64(Self.grownSize))
            #expect(try await client.read(handle, offset: 0, count: 1 << 16) == expected)
            let tail = Array("xy".utf8)
            _ = try await client.write(handle, offset: UInt64(Self.grownSize), bytes: tail)
            try await client.release(handle)
            await client.close()

            // A fresh client sees only what reached the cluster.
            let fresh = try await cluster.client()
            #expect(try await fresh.readFile(closed.inode) == expected)
            #expect(try await fresh.readFile(open.inode) == expected + tail)
            #expect(try await fresh.attributes(of: open.inode).size == UInt64(Self.grownSize + tail.count))
            await fresh.close()
        }
    }

    /// write, futimens(fd, mtime), close: the explicit mtime survives close, for an inline file
    /// and for a block file (`cp -a` relies on it).
    @Test func mtimeSetBeforeCloseSurvivesClose() async throws {
        try await TestCluster.with { cluster in
            let client = try await cluster.client()
            let setTime = Timestamp(seconds: 1_000_000_000, nanoseconds: 123_000_000)
            for (name, count) in [("inline", 10), ("blocks", 3 * Self.inlineThreshold)] {
                let createdFile = try await client.create(
                    parent: 1, name: FileName(name), permissions: 0o644, flags: OpenFlags(read: false, write: true), exclusive: false, context: .root)
                let (attributes, handle) = (createdFile.attributes, createdFile.handle)
                _ = try await client.write(handle, offset: 0, bytes: patternBytes(count: count, seed: UInt64(count)))
                let set = try await client.setAttributes(
                    of: attributes.inode, AttributeChanges(accessTime: .at(setTime), modificationTime: .at(setTime)), handle: handle, context: .root)
                #expect(set.modificationTime == setTime, "\(name)")
                try await client.release(handle)
                let fresh = try await cluster.client()
                let after = try await fresh.attributes(of: attributes.inode)
                #expect(after.modificationTime == setTime, "\(name): mtime after close")
                #expect(after.size == UInt64(count), "\(name)")
                await fresh.close()
            }
            await client.close()
        }
    }
}

/// Two handles on one file in one client, as two processes on one mount: a reader racing a
/// writer that appends frames straddling blocks (a sqlite WAL), and flushing as its close would,
/// must not make any write or the size get lost.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ConcurrentHandleTests {
    static let frameSize = 4120
    static let frameCount = 300

    static func frame(_ index: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(index % 251 + 1), count: frameSize)
    }

    @Test func appendsRacingReadsOnAnotherHandleAllReachTheCluster() async throws {
        try await TestCluster.with(blockSize: 16 << 10) { cluster in
            let client = try await cluster.client()
            for round in 0..<4 {
                let createdFile = try await client.create(
                    parent: 1, name: "wal-\(round)", permissions: 0o644, flags: OpenFlags(read: true, write: true), exclusive: false, context: .root)
                let (attributes, writer) = (createdFile.attributes, createdFile.handle)
                let reader = try await client.open(attributes.inode, flags: OpenFlags(read: true, write: false), context: .root)
                let readerTask = Task {
                    var reads = 0
                    while !Task.isCancelled {
                        let size = try await client.attributes(of: attributes.inode).size
                        _ = try await client.read(reader, offset: 0, count: Int(size) + 1)
                        // A reading process's close flushes the shared file too.
                        try await client.flush(reader)
                        reads += 1
                        await Task.yield()
                    }
                    return reads
                }
                for index in 0..<Self.frameCount {
                    _ = try await client.write(writer, offset: UInt64(index * Self.frameSize), bytes: Self.frame(index))
                    if index % 7 == 0 { try await client.flush(writer) }
                }
                readerTask.cancel()
                _ = try? await readerTask.value
                try await client.release(reader)
                try await client.release(writer)

                let fresh = try await cluster.client()
                let stored = try await fresh.readFile(attributes.inode)
                await fresh.close()
                #expect(stored.count == Self.frameCount * Self.frameSize, "round \(round)")
                let wrong = (0..<Self.frameCount).filter { index in
                    stored.count >= (index + 1) * Self.frameSize
                        && stored[index * Self.frameSize..<(index + 1) * Self.frameSize].elementsEqual(Self.frame(index)) == false
                }
                #expect(wrong.isEmpty, "round \(round): frames \(wrong.prefix(10)) lost their bytes")
            }
            await client.close()
        }
    }
}
