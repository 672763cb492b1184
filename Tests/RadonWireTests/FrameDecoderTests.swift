import NIOCore
import NIOEmbedded
import Testing

@testable import RadonWire

/// The frame decoder cuts any split of the byte stream into the same frames, and behind TLS it
/// keeps none of the buffers it receives (they are NIOSSL's, reused for the next decryption).
@Suite struct FrameDecoderTests {
    /// Frames of every interesting size: empty, shorter than a header, one byte over, and
    /// payloads spanning many reads.
    static let payloadSizes = [0, 1, 23, 24, 25, 5000, 70_000, 300_001]

    static func frames() -> [Frame] {
        payloadSizes.enumerated().map { index, size in
            var payload = ByteBuffer()
            payload.writeBytes((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ index) })
            return Frame(opcode: UInt8(0x10 + index), status: UInt16(index), requestID: UInt64(1000 + index), payload: payload)
        }
    }

    static func stream(of frames: [Frame]) -> ByteBuffer {
        var bytes = ByteBuffer()
        for frame in frames {
            bytes.writeFrameHeader(opcode: frame.opcode, status: frame.status, requestID: frame.requestID, payloadLength: frame.payload.readableBytes)
            bytes.writeImmutableBuffer(frame.payload)
        }
        return bytes
    }

    /// The address range of a buffer's whole storage, from its reader index 0.
    static func storage(of buffer: ByteBuffer) -> Range<UInt> {
        let base = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } - UInt(buffer.readerIndex)
        return base..<(base + UInt(buffer.capacity))
    }

    static func address(of buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test(arguments: [1, 7, 24, 25, 4096, 65_536, 1 << 20], [false, true])
    func everySplitOfTheStreamGivesTheSameFrames(readSize: Int, slicesReceivedBuffers: Bool) throws {
        let channel = EmbeddedChannel(handler: FrameDecoder(slicesReceivedBuffers: slicesReceivedBuffers))
        defer { _ = try? channel.finish() }
        let sent = Self.frames()
        var stream = Self.stream(of: sent)
        var received: [Frame] = []
        while stream.readableBytes > 0 {
            try channel.writeInbound(stream.readSlice(length: min(readSize, stream.readableBytes))!)
            while let frame = try channel.readInbound(as: Frame.self) { received.append(frame) }
        }
        #expect(received.count == sent.count)
        for (got, expected) in zip(received, sent) {
            #expect(got.opcode == expected.opcode && got.status == expected.status && got.requestID == expected.requestID)
            #expect(got.payload == expected.payload, "payload of \(expected.payload.readableBytes) bytes")
        }
    }

    @Test func behindTLSNoPayloadSharesAReceivedBuffer() throws {
        let channel = EmbeddedChannel(handler: FrameDecoder(slicesReceivedBuffers: false))
        defer { _ = try? channel.finish() }
        let sent = Self.frames()
        let stream = Self.stream(of: sent)
        // Like NIOSSL: every read is decrypted into one large buffer that is written again for
        // the next read, and handed on as a slice of it.
        var decrypted = channel.allocator.buffer(capacity: 1 << 20)
        var received: [(frame: Frame, read: Range<UInt>)] = []
        var offset = 0
        while offset < stream.readableBytes {
            let count = min(150_000, stream.readableBytes - offset)
            decrypted.clear()
            decrypted.writeImmutableBuffer(stream.getSlice(at: offset, length: count)!)
            offset += count
            let storage = Self.storage(of: decrypted)
            try channel.writeInbound(decrypted)
            while let frame = try channel.readInbound(as: Frame.self) { received.append((frame, storage)) }
        }
        #expect(received.map(\.frame.payload) == sent.map(\.payload))
        for (frame, read) in received where frame.payload.readableBytes > 0 {
            #expect(!read.contains(Self.address(of: frame.payload)), "a payload of \(frame.payload.readableBytes) bytes lies in the buffer it was read from")
        }
    }

    @Test func onPlainSocketsAWholeFrameIsASliceOfItsRead() throws {
        let channel = EmbeddedChannel(handler: FrameDecoder(slicesReceivedBuffers: true))
        defer { _ = try? channel.finish() }
        let read = Self.stream(of: Array(Self.frames()[4...5]))
        try channel.writeInbound(read)
        let storage = Self.storage(of: read)
        for _ in 0..<2 {
            let frame = try #require(try channel.readInbound(as: Frame.self))
            #expect(storage.contains(Self.address(of: frame.payload)))
        }
    }

    @Test func aMalformedHeaderFailsTheConnectionAndNothingAfterItIsDecoded() throws {
        let channel = EmbeddedChannel(handler: FrameDecoder(slicesReceivedBuffers: false))
        defer { _ = try? channel.finish() }
        var bad = ByteBuffer()
        bad.writeFrameHeader(opcode: 1, status: 0, requestID: 1, payloadLength: 0)
        bad.setInteger(UInt32(0xDEAD_BEEF), at: 0)
        #expect(throws: FrameError.self) { try channel.writeInbound(bad) }
        try channel.writeInbound(Self.stream(of: Self.frames()))
        #expect(try channel.readInbound(as: Frame.self) == nil)
    }

    @Test func aFirstFrameOverItsLimitFailsBeforeItsPayloadIsBuffered() throws {
        let channel = EmbeddedChannel(handler: FrameDecoder(firstFrameLimit: 32, slicesReceivedBuffers: true))
        defer { _ = try? channel.finish() }
        var header = ByteBuffer()
        header.writeFrameHeader(opcode: 1, status: 0, requestID: 1, payloadLength: 33)
        #expect(throws: FrameError.self) { try channel.writeInbound(header) }
    }

    @Test func laterFramesAreHeldToTheMaximumAndTheFirstToItsOwnLimit() throws {
        let channel = EmbeddedChannel(handler: FrameDecoder(maximumPayloadLength: 1000, firstFrameLimit: 32, slicesReceivedBuffers: true))
        defer { _ = try? channel.finish() }
        var first = Frame(opcode: 1, requestID: 1, payload: ByteBuffer(bytes: Array(repeating: 7, count: 32)))
        try channel.writeInbound(Self.stream(of: [first]))
        #expect(try channel.readInbound(as: Frame.self)?.payload.readableBytes == 32)
        first.payload = ByteBuffer(bytes: Array(repeating: 8, count: 1000))
        try channel.writeInbound(Self.stream(of: [first]))
        #expect(try channel.readInbound(as: Frame.self)?.payload.readableBytes == 1000)
        var tooLong = ByteBuffer()
        tooLong.writeFrameHeader(opcode: 1, status: 0, requestID: 2, payloadLength: 1001)
        #expect(throws: FrameError.self) { try channel.writeInbound(tooLong) }
    }
}
