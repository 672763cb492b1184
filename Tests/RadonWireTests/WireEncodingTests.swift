import Foundation
import NIOCore
import RadonCodec
import Testing
@testable import RadonWire

@Suite struct WireEncodingTests {
    @Test func messageRoundTrips() throws {
        let message = TestMessage(number: 0xDEAD_BEEF_0123, text: "héllo/wörld", flag: true, bytes: [0, 1, 255], optional: 7, list: ["a", "", "ccc"])
        #expect(try TestMessage(decoding: message.encoded()) == message)
        let empty = TestMessage(number: 0, text: "", flag: false, bytes: [], optional: nil, list: [])
        #expect(try TestMessage(decoding: empty.encoded()) == empty)
    }

    @Test func truncatedPayloadsThrowNeverTrap() throws {
        let encoded = TestMessage(number: 1, text: "abc", flag: true, bytes: [1, 2, 3], optional: 9, list: ["x"]).encoded()
        for length in 0..<encoded.readableBytes {
            #expect(throws: WireError.self) { try TestMessage(decoding: encoded.getSlice(at: 0, length: length)!) }
        }
        var trailing = encoded
        trailing.writeInteger(UInt8(0))
        #expect(throws: WireError.self) { try TestMessage(decoding: trailing) }
    }

    @Test func hostileLengthsAndBadValuesAreRefused() throws {
        var huge = ByteBuffer()
        huge.writeInteger(UInt32.max)
        var copy = huge
        #expect(throws: WireError.self) { try copy.readWireBytes() }
        copy = huge
        #expect(throws: WireError.self) { try copy.readWireArray { try $0.readWireInteger(as: UInt8.self) } }
        var badBool = ByteBuffer(bytes: [2])
        #expect(throws: WireError.self) { try badBool.readWireBool() }
        var badUTF8 = ByteBuffer()
        badUTF8.writeWireBytes([0xFF, 0xFE])
        #expect(throws: WireError.self) { try badUTF8.readWireString() }
        var long = ByteBuffer()
        long.writeWireString("abcdef")
        #expect(throws: WireError.self) { try long.readWireString(maximumLength: 5) }
    }

    @Test func randomBytesNeverTrapTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? TestMessage(decoding: ByteBuffer(bytes: bytes))
        }
    }

    /// Each slot of a write carries its sender's CRC32C, each present fragment of a read the
    /// CRC32C of the bytes sent; a range answer the CRC32C of the range.
    @Test func fragmentChecksumsRoundTripInWritesAndReads() throws {
        let bytes: [UInt8] = [1, 2, 3, 250]
        let request = WriteFragmentsRequest(
            file: FragmentFileKey(group: 7, inode: 99, fragmentIndex: 3), fragmentCapacity: 8,
            slots: [FragmentSlotWrite(blockIndex: 5, version: 11, effectiveLength: 4, bytes: bytes),
                    FragmentSlotWrite(blockIndex: 6, version: 12, effectiveLength: 0, bytes: ByteBuffer(), checksum: 0xDEAD_BEEF)],
            keepPrevious: true)
        let encoded = request.encoded()
        let decoded = try WriteFragmentsRequest(decoding: encoded)
        #expect(decoded.file == request.file && decoded.fragmentCapacity == 8 && decoded.keepPrevious)
        #expect(decoded.slots.map(\.blockIndex) == [5, 6])
        #expect(decoded.slots.map(\.version) == [11, 12])
        #expect(decoded.slots.map(\.effectiveLength) == [4, 0])
        #expect(decoded.slots.map(\.bytes) == request.slots.map(\.bytes))
        #expect(decoded.slots.map(\.checksum) == [CRC32C.checksum(bytes), 0xDEAD_BEEF])
        for length in 0..<encoded.readableBytes {
            #expect(throws: WireError.self) { try WriteFragmentsRequest(decoding: encoded.getSlice(at: 0, length: length)!) }
        }

        // Sent in parts (the fragments as their own buffers), the same bytes go on the wire.
        let (payload, trailing) = request.encodedParts(allocator: ByteBufferAllocator())
        var joined = payload
        for var part in trailing { joined.writeBuffer(&part) }
        #expect(joined == encoded)
        #expect(trailing.count == 4, "fields, fragment, fields, fragment, keepPrevious")
        #expect(trailing[0] == request.slots[0].bytes)

        let reply = ReadFragmentsReply(results: [
            FragmentReadResult(blockIndex: 5, fragment: .present(version: 11, effectiveLength: 4, bytes: ByteBuffer(bytes: bytes),
                                                                 checksum: CRC32C.checksum(bytes))),
            FragmentReadResult(blockIndex: 6, fragment: .missing),
            FragmentReadResult(blockIndex: 7, fragment: .corrupt),
            FragmentReadResult(blockIndex: 8, fragment: .present(version: 1, effectiveLength: 0, bytes: ByteBuffer(), checksum: 0)),
        ])
        let encodedReply = reply.encoded()
        #expect(try ReadFragmentsReply(decoding: encodedReply) == reply)
        for length in 0..<encodedReply.readableBytes {
            #expect(throws: WireError.self) { try ReadFragmentsReply(decoding: encodedReply.getSlice(at: 0, length: length)!) }
        }
        // In parts (each present fragment its own buffer), the same bytes.
        let (replyPayload, replyTrailing) = reply.encodedParts(allocator: ByteBufferAllocator())
        var joinedReply = replyPayload
        for var part in replyTrailing { joinedReply.writeBuffer(&part) }
        #expect(joinedReply == encodedReply)
        #expect(replyTrailing.first == ByteBuffer(bytes: bytes))

        let range = reply.restricted(toOffset: 1, length: 2)
        #expect(range.results.map(\.fragment) == [
            .present(version: 11, effectiveLength: 4, bytes: ByteBuffer(bytes: [2, 3]), checksum: CRC32C.checksum([2, 3])),
            .missing, .corrupt,
            .present(version: 1, effectiveLength: 0, bytes: ByteBuffer(), checksum: 0),
        ])
        #expect(range.results.allSatisfy { $0.fragment.verified == $0.fragment })
    }

    @Test func addressesParse() throws {
        #expect(WireAddress("127.0.0.1:9000") == WireAddress(host: "127.0.0.1", port: 9000))
        #expect(WireAddress("[::1]:80") == WireAddress(host: "::1", port: 80))
        #expect(WireAddress("node-a:0")?.port == 0)
        #expect(WireAddress("::1:80") == nil)
        #expect(WireAddress("host") == nil)
        #expect(WireAddress("host:70000") == nil)
        #expect(WireAddress(":80") == nil)
        #expect(WireAddress(host: "::1", port: 80).description == "[::1]:80")
        let address = WireAddress(host: "h", port: 1)
        #expect(try JSONDecoder().decode(WireAddress.self, from: JSONEncoder().encode(address)) == address)
    }

    @Test func clusterKeysRoundTripThroughFilesWithPrivateMode() throws {
        let key = ClusterKey.generate()
        #expect(key != ClusterKey.generate())
        #expect(try ClusterKey(hex: key.hexString) == key)
        let path = NSTemporaryDirectory() + "radon-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try key.write(to: path)
        #expect(try ClusterKey(contentsOf: path) == key)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: WireError.self) { try ClusterKey(hex: "abc") }
        #expect(throws: WireError.self) { try ClusterKey(hex: String(repeating: "zz", count: 32)) }
        #expect(throws: WireError.self) { try ClusterKey(contentsOf: path + ".missing") }
    }

    @Test func posixErrorsKeepTheirErrno() {
        let error = FileSystemError.notPermitted("x")
        let wire = WireError(error)
        #expect(wire.status == .permissionDenied)
        #expect(FileSystemError(wire).errno == error.errno)
        #expect(FileSystemError(WireError(.notFound, "gone")).errno == FileSystemError.notFound().errno)
        for status in WireStatus.allCases where status != .ok {
            #expect(FileSystemError(WireError(status)).errno > 0)
        }
    }
}
