import NIOCore

/// Cuts the byte stream into frames. A header that is not ours (magic, version, reserved bits,
/// length over the limit) is a protocol violation: the decoder fires the error (the connection
/// handler behind it closes the connection) and ignores every byte after it, since nothing after
/// a bad header can be trusted to be aligned on a frame.
///
/// Each byte it keeps is copied once, out of the buffer it arrived in: a frame whose payload
/// spans reads is gathered into a buffer of its own, sized to the payload when the header
/// arrives, and no received buffer is held once `channelRead` returns, unless the decoder may
/// slice whole frames out of it (`slicesReceivedBuffers`). Why: behind TLS the buffers it
/// receives are NIOSSL's, which NIOSSL decrypts the next read into. Holding one made NIOCore's
/// copy-on-write copy its whole capacity before the next decryption; copying each read before
/// decoding (the earlier fix) copied the later parts of a frame spanning reads twice.
///
/// Invariants: `pending` is set only while a frame's payload is incomplete, and
/// `partialHeader` holds fewer than `Frame.headerLength` bytes and only while `pending` is nil.
final class FrameDecoder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Frame

    /// The limit for every frame but the first; the first is held to `firstFrameLimit`, so an
    /// unauthenticated peer cannot make the server buffer megabytes.
    let maximumPayloadLength: Int
    let firstFrameLimit: Int
    /// Whether a frame that arrives whole in one read may be passed on as a slice of that read's
    /// buffer (no copy). True on plain sockets, whose read buffers NIO replaces when they are
    /// still held; false behind TLS.
    let slicesReceivedBuffers: Bool

    private var isFirstFrame = true
    private var partialHeader: ByteBuffer?
    private var pending: (header: FrameHeader, payload: ByteBuffer)?
    private var hasFailed = false
    /// Reads that arrived while an earlier one was being decoded (a handler behind this one
    /// caused a read from inside `channelRead`); decoded in order before `channelRead` returns.
    private var queued: [ByteBuffer] = []
    private var isDecoding = false

    init(maximumPayloadLength: Int = Frame.maximumPayloadLength, firstFrameLimit: Int? = nil, slicesReceivedBuffers: Bool) {
        self.maximumPayloadLength = maximumPayloadLength
        self.firstFrameLimit = firstFrameLimit ?? maximumPayloadLength
        self.slicesReceivedBuffers = slicesReceivedBuffers
    }

    /// The largest payload buffer reserved when its header arrives; a longer payload's buffer
    /// grows as its bytes come in, so a header alone cannot make the decoder allocate 17 MiB.
    static let largestReservation = 16 << 20

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queued.append(unwrapInboundIn(data))
        guard !isDecoding else { return }
        isDecoding = true
        defer { isDecoding = false }
        while !queued.isEmpty {
            var input = queued.removeFirst()
            guard !hasFailed else { continue }
            do {
                try decode(&input, context: context)
            } catch {
                hasFailed = true
                pending = nil
                partialHeader = nil
                queued.removeAll()
                context.fireErrorCaught(error)
            }
        }
    }

    private func decode(_ input: inout ByteBuffer, context: ChannelHandlerContext) throws {
        while input.readableBytes > 0 {
            if var frame = pending {
                pending = nil
                let missing = Int(frame.header.length) - frame.payload.readableBytes
                let arrived = input.readSlice(length: min(missing, input.readableBytes))!
                frame.payload.writeImmutableBuffer(arrived)
                if arrived.readableBytes == missing {
                    fire(frame.header, frame.payload, context: context)
                } else {
                    pending = frame
                }
                continue
            }
            guard let header = try takeHeader(from: &input) else { return }
            let length = Int(header.length)
            if input.readableBytes >= length {
                let payload = input.readSlice(length: length)!
                fire(header, slicesReceivedBuffers ? payload : copy(of: payload, context: context), context: context)
            } else {
                var payload = context.channel.allocator.buffer(capacity: min(length, Self.largestReservation))
                payload.writeImmutableBuffer(input)
                input.moveReaderIndex(to: input.writerIndex)
                pending = (header, payload)
            }
        }
    }

    /// The next header, read from `input` or from the bytes kept from earlier reads; nil when it
    /// is not all in yet (what arrived is kept).
    private func takeHeader(from input: inout ByteBuffer) throws -> FrameHeader? {
        let limit = isFirstFrame ? firstFrameLimit : maximumPayloadLength
        guard var bytes = partialHeader else {
            if input.readableBytes >= Frame.headerLength { return try FrameHeader(from: &input, limit: limit) }
            var kept = ByteBuffer()
            kept.writeImmutableBuffer(input)
            input.moveReaderIndex(to: input.writerIndex)
            partialHeader = kept
            return nil
        }
        let arrived = input.readSlice(length: min(Frame.headerLength - bytes.readableBytes, input.readableBytes))!
        bytes.writeImmutableBuffer(arrived)
        guard bytes.readableBytes == Frame.headerLength else {
            partialHeader = bytes
            return nil
        }
        partialHeader = nil
        return try FrameHeader(from: &bytes, limit: limit)
    }

    private func copy(of payload: ByteBuffer, context: ChannelHandlerContext) -> ByteBuffer {
        var copy = context.channel.allocator.buffer(capacity: payload.readableBytes)
        copy.writeImmutableBuffer(payload)
        return copy
    }

    private func fire(_ header: FrameHeader, _ payload: ByteBuffer, context: ChannelHandlerContext) {
        isFirstFrame = false
        context.fireChannelRead(wrapInboundOut(
            Frame(opcode: header.opcode, status: header.status, requestID: header.requestID, payload: payload)
        ))
    }
}

/// A frame's header as read off the wire, checked.
struct FrameHeader {
    var opcode: UInt8
    var status: UInt16
    var requestID: UInt64
    var length: UInt32

    /// Reads the header's `Frame.headerLength` bytes (the caller has checked they are there).
    /// Throws for a header that is not ours or announces more than `limit` payload bytes.
    init(from buffer: inout ByteBuffer, limit: Int) throws {
        let (magic, version, opcode, status, requestID, length, reserved) = buffer.readMultipleIntegers(
            as: (UInt32, UInt8, UInt8, UInt16, UInt64, UInt32, UInt32).self
        )!
        guard magic == Frame.magic, version == Frame.version, reserved == 0 else {
            throw FrameError.malformedHeader
        }
        guard Int(length) <= limit else { throw FrameError.frameTooLong(Int(length), limit: limit) }
        self.opcode = opcode
        self.status = status
        self.requestID = requestID
        self.length = length
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
