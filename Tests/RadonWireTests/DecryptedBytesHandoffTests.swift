import NIOCore
import NIOEmbedded
import Testing

@testable import RadonWire

/// The handler behind NIOSSL passes on the bytes it gets, in storage of their own, so the TLS
/// handler's buffer is never kept by the frame decoder.
@Suite struct DecryptedBytesHandoffTests {
    @Test func passesOnTheSameBytesInStorageOfTheirOwn() throws {
        let channel = EmbeddedChannel(handler: DecryptedBytesHandoff())
        defer { _ = try? channel.finish() }
        var decrypted = channel.allocator.buffer(capacity: 1 << 20)
        decrypted.writeRepeatingByte(0xEE, count: 100)
        decrypted.moveReaderIndex(forwardBy: 100)
        decrypted.writeBytes((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) })

        try channel.writeInbound(decrypted)
        let passedOn = try #require(try channel.readInbound(as: ByteBuffer.self))

        #expect(passedOn == decrypted)
        #expect(passedOn.capacity <= 8192, "sized to the 5000 bytes, not to the 1 MiB of the TLS handler's buffer")
        let received = decrypted.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let sent = passedOn.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let receivedStorage = (received - 100)..<(received - 100 + UInt(decrypted.capacity))
        #expect(!receivedStorage.contains(sent), "the buffer passed on must not share the received one's storage")
    }

    @Test func anEmptyReadPassesOnAnEmptyBuffer() throws {
        let channel = EmbeddedChannel(handler: DecryptedBytesHandoff())
        defer { _ = try? channel.finish() }
        try channel.writeInbound(channel.allocator.buffer(capacity: 0))
        let passedOn = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(passedOn.readableBytes == 0)
    }
}
