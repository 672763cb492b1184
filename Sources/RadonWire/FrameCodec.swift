import NIOCore

/// Cuts the byte stream into frames. A header that is not ours (magic, version, reserved bits,
/// length over the limit) is a protocol violation: the decoder throws and the connection closes,
/// since nothing after a bad header can be trusted to be aligned on a frame.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    /// The limit for every frame but the first; the first is held to `firstFrameLimit`, so an
    /// unauthenticated peer cannot make the server buffer megabytes.
    let maximumPayloadLength: Int
    var firstFrameLimit: Int
    private var isFirstFrame = true

    init(maximumPayloadLength: Int = Frame.maximumPayloadLength, firstFrameLimit: Int? = nil) {
        self.maximumPayloadLength = maximumPayloadLength
        self.firstFrameLimit = firstFrameLimit ?? maximumPayloadLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= Frame.headerLength else { return .needMoreData }
        let start = buffer.readerIndex
        guard let (magic, version, opcode, status, requestID, length, reserved) = buffer.getMultipleIntegers(
            at: start, as: (UInt32, UInt8, UInt8, UInt16, UInt64, UInt32, UInt32).self
        ) else { return .needMoreData }
        let limit = isFirstFrame ? firstFrameLimit : maximumPayloadLength
        guard magic == Frame.magic, version == Frame.version, reserved == 0 else {
            throw FrameError.malformedHeader
        }
        guard Int(length) <= limit else { throw FrameError.frameTooLong(Int(length), limit: limit) }
        guard buffer.readableBytes >= Frame.headerLength + Int(length) else {
            reserveRoom(forFrameOf: Int(length), in: &buffer)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: Frame.headerLength)
        let payload = buffer.readSlice(length: Int(length))!
        isFirstFrame = false
        context.fireChannelRead(wrapInboundOut(
            Frame(opcode: opcode, status: status, requestID: requestID, payload: payload)
        ))
        return .continue
    }

    /// The largest frame whose room is reserved when its header arrives.
    static let largestReservation = 16 << 20

    /// Makes room for the whole frame once its header is in: the handler then appends each
    /// read of the payload without growing (and copying) the buffer again and again. That
    /// matters most under TLS, where each read is one decrypted burst and the buffer first
    /// shares its storage with NIOSSL's, so every growth copied what had arrived so far.
    private func reserveRoom(forFrameOf length: Int, in buffer: inout ByteBuffer) {
        guard length <= Self.largestReservation else { return }
        let missing = Frame.headerLength + length - buffer.readableBytes
        if buffer.writableBytes < missing { buffer.reserveCapacity(minimumWritableBytes: missing) }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Writes a frame as its header and then its payload buffers as they are, so a multi-MiB payload
/// is handed to the socket without being copied into a combined buffer.
final class FrameEncoder: ChannelOutboundHandler {
    typealias OutboundIn = Frame
    typealias OutboundOut = ByteBuffer

    /// Payloads up to this size are copied behind the header: one write beats two for small frames.
    private static let inlinePayloadLimit = 4096

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        let length = frame.payloadLength
        let inline = length <= Self.inlinePayloadLimit
        var header = context.channel.allocator.buffer(capacity: Frame.headerLength + (inline ? length : 0))
        header.writeFrameHeader(opcode: frame.opcode, status: frame.status, requestID: frame.requestID, payloadLength: length)
        if inline {
            header.writeImmutableBuffer(frame.payload)
            for part in frame.trailingPayload { header.writeImmutableBuffer(part) }
            context.write(wrapOutboundOut(header), promise: promise)
            return
        }
        context.write(wrapOutboundOut(header), promise: nil)
        // Past the inline limit at least one part has bytes; empty ones are not written at all.
        let parts = ([frame.payload] + frame.trailingPayload).filter { $0.readableBytes > 0 }
        for (position, part) in parts.enumerated() {
            context.write(wrapOutboundOut(part), promise: position == parts.count - 1 ? promise : nil)
        }
    }
}

/// Why a connection was closed by the framing layer.
enum FrameError: Error, CustomStringConvertible {
    case malformedHeader
    case frameTooLong(Int, limit: Int)

    var description: String {
        switch self {
        case .malformedHeader: "malformed frame header"
        case let .frameTooLong(length, limit): "frame payload of \(length) bytes exceeds the limit of \(limit)"
        }
    }
}
