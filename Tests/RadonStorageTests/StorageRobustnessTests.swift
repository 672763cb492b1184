#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import Testing
@testable import RadonStorage
import RadonWire

@Suite struct StorageRobustnessTests {
    /// What a node holds, read through the wire: groups, files and every slot's bytes.
    private func snapshot(_ node: TestStorageNode) async throws -> [String] {
        var lines: [String] = []
        for group in try await node.client.listGroups() {
            for file in try await node.client.listFiles(group: group) {
                let slots = try await node.client.readFragments(group: group, inode: file.inode, fragmentIndex: file.fragmentIndex, blockRange: 0..<file.blockCount)
                lines.append("g\(group)/\(file.inode).\(file.fragmentIndex) \(file.fragmentCapacity) \(slots.map { "\($0.blockIndex):\($0.fragment)" })")
            }
        }
        return lines
    }

    @Test func thousandsOfMalformedFramesChangeNothingAndTheDaemonKeepsServing() async throws {
        try await withStorageNode { node in
            for inode in UInt64(1)...3 {
                let slots = (0..<3).map { FragmentSlotWrite(blockIndex: UInt64($0), version: inode, effectiveLength: 100, bytes: fragmentBytes(block: UInt64($0), version: inode, count: 100)) }
                try await node.client.writeFragments(group: 7, inode: inode, fragmentIndex: 1, fragmentCapacity: 128, slots: slots)
            }
            let before = try await snapshot(node)
            #expect(before.count == 3)
            var generator = SystemRandomNumberGenerator()
            func randomBytes(_ count: Int) -> ByteBuffer {
                ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }

            // Unauthenticated garbage, wrong keys, and frames sent before authenticating: closed.
            var closed = 0
            for round in 0..<300 {
                let probe = try await WireProbe.connect(to: node.daemon.address)
                switch round % 3 {
                case 0: await probe.send(randomBytes(Int.random(in: 24...200, using: &generator)))
                case 1: _ = await probe.authenticate(with: .generate())
                default: await probe.sendFrame(opcode: StorageOpcode.deleteFile.rawValue, requestID: 1, payload: DeleteFileRequest(group: 7, inode: 1).encoded())
                }
                if await probe.waitUntilClosed() { closed += 1 }
                probe.close()
            }
            #expect(closed == 300)

            // Authenticated, then a malformed header: that connection is closed.
            var closedAfterBadHeader = 0
            for round in 0..<300 {
                let probe = try await WireProbe.connect(to: node.daemon.address)
                #expect(await probe.authenticate(with: node.key))
                var header = ByteBuffer()
                let magic = round % 3 == 0 ? UInt32.random(in: 0...UInt32.max, using: &generator) : 0x5244_4E46
                let version = round % 3 == 1 ? UInt8.random(in: 2...255, using: &generator) : 1
                let reserved = round % 3 == 2 ? UInt32.random(in: 1...UInt32.max, using: &generator) : 0
                header.writeMultipleIntegers(magic, version, UInt8(0x11), UInt16(0), UInt64(round), UInt32(8), reserved)
                header.writeBytes(Array(repeating: 0, count: 8))
                await probe.send(header)
                if await probe.waitUntilClosed() { closedAfterBadHeader += 1 }
                probe.close()
            }
            #expect(closedAfterBadHeader == 300)

            // Authenticated, well-framed, random payloads for every opcode: each gets a reply.
            let probe = try await WireProbe.connect(to: node.daemon.address)
            #expect(await probe.authenticate(with: node.key))
            var replies = 0
            var errorReplies = 0
            for batch in 0..<30 {
                for index in 0..<100 {
                    let opcode = index % 10 == 9 ? UInt8.random(in: 0x17...0xFF, using: &generator) : UInt8.random(in: 0x10...0x16, using: &generator)
                    let length = Int.random(in: 0...120, using: &generator)
                    var payload = randomBytes(length)
                    // Keep group 7 out of reach of a payload that happens to decode.
                    if payload.readableBytes >= 4, payload.getInteger(at: 0, as: UInt32.self) == 7 { payload.setInteger(UInt32(8), at: 0) }
                    await probe.sendFrame(opcode: opcode, requestID: UInt64(batch * 100 + index), payload: payload)
                }
                for _ in 0..<100 {
                    guard let frame = await probe.nextFrame(timeout: .seconds(10)) else { break }
                    replies += 1
                    if frame.status != 0 { errorReplies += 1 }
                }
            }
            #expect(replies == 3000)
            #expect(errorReplies > 2500)
            #expect(!probe.isClosed)
            probe.close()

            // Truncated frames: the header promises more than ever comes, then the peer leaves.
            for _ in 0..<100 {
                let partial = try await WireProbe.connect(to: node.daemon.address)
                #expect(await partial.authenticate(with: node.key))
                var frame = ByteBuffer()
                frame.writeMultipleIntegers(UInt32(0x5244_4E46), UInt8(1), UInt8(0x10), UInt16(0), UInt64(1), UInt32(1000), UInt32(0))
                frame.writeImmutableBuffer(randomBytes(100))
                await partial.send(frame)
                partial.close()
            }

            try await node.client.ping()
            #expect(try await snapshot(node) == before)
            #expect(try await node.client.nodeStatus().fragmentFileCount == 3)
        }
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskFailsWritesClearlyAndKeepsAcknowledgedData() async throws {
        let mountPoint = temporaryDirectory("full")
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=1m") == 0 else {
            Issue.record("cannot mount a tmpfs on \(mountPoint): \(String(cString: strerror(errno)))")
            return
        }
        defer {
            umount(mountPoint)
            rmdir(mountPoint)
        }
        try await withStorageNode(directory: mountPoint) { node in
            let capacity = 100 * 1024
            let kept = (0..<3).map { FragmentSlotWrite(blockIndex: UInt64($0), version: 1, effectiveLength: UInt32(capacity), bytes: fragmentBytes(block: UInt64($0), version: 1, count: capacity)) }
            try await node.client.writeFragments(group: 0, inode: 1, fragmentIndex: 0, fragmentCapacity: UInt32(capacity), slots: kept)

            let tooMuch = (0..<20).map { FragmentSlotWrite(blockIndex: UInt64($0), version: 1, effectiveLength: UInt32(capacity), bytes: fragmentBytes(block: UInt64($0), version: 2, count: capacity)) }
            let full = await #expect(throws: WireError.self) {
                try await node.client.writeFragments(group: 0, inode: 2, fragmentIndex: 0, fragmentCapacity: UInt32(capacity), slots: tooMuch)
            }
            #expect(full?.status == .noSpace)
            #expect(full.map { FileSystemError($0).errno } == ENOSPC)
            let status = try await node.client.nodeStatus()
            #expect(status.freeBytes < UInt64(capacity))

            // The acknowledged file is intact, and the daemon still serves.
            let results = try await node.client.readFragments(group: 0, inode: 1, fragmentIndex: 0, blockRange: 0..<3)
            for (result, slot) in zip(results, kept) {
                #expect(result.fragment == .intact(version: 1, effectiveLength: UInt32(capacity), bytes: slot.bytes))
            }
            // Freeing space makes writes work again.
            #expect(try await node.client.deleteFile(group: 0, inode: 2) == 1)
            try await node.client.writeFragments(group: 0, inode: 3, fragmentIndex: 0, fragmentCapacity: UInt32(capacity), slots: Array(tooMuch.prefix(2)))
            #expect(try await node.client.readFragments(group: 0, inode: 3, fragmentIndex: 0, blockIndices: [1]).first?.fragment.version == 1)
        }
    }
}
