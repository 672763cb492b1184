import NIOCore

/// One message on a RadonFS connection: a fixed 24-byte header and a payload.
///
/// Header, big-endian: magic `RDNF` (u32), version (u8), opcode (u8), status (u16), request id
/// (u64), payload length (u32), reserved (u32, zero). Requests carry status 0; a reply repeats
/// the request's opcode and id and carries its outcome in `status`.
public struct Frame: Sendable {
    public var opcode: UInt8
    public var status: UInt16
    public var requestID: UInt64
    /// The payload. On receipt, a buffer of its own, or a slice of a plain socket's read buffer
    /// when the frame arrived whole in one read.
    public var payload: ByteBuffer
    /// More payload bytes, sent after `payload` as they are: a fragment write's bytes go out
    /// without first being copied behind its header fields. The receiver sees one payload of
    /// all of them; a received frame's is always empty.
    public var trailingPayload: [ByteBuffer]

    public init(opcode: UInt8, status: UInt16 = 0, requestID: UInt64, payload: ByteBuffer, trailingPayload: [ByteBuffer] = []) {
        self.opcode = opcode
        self.status = status
        self.requestID = requestID
        self.payload = payload
        self.trailingPayload = trailingPayload
    }

    /// The payload's length on the wire: `payload` and every trailing part.
    public var payloadLength: Int {
        trailingPayload.reduce(payload.readableBytes) { $0 + $1.readableBytes }
    }

    /// `RDNF`.
    public static let magic: UInt32 = 0x5244_4E46
    public static let version: UInt8 = 1
    public static let headerLength = 24
    /// The largest payload a frame may carry: room for a write of a few MiB of fragments and
    /// their slot headers. A longer frame closes the connection before its bytes are buffered.
    public static let maximumPayloadLength = 17 * 1024 * 1024

    /// Socket reads grow up to 1 MiB (NIO's default stops at 64 KiB), so a multi-MiB fragment
    /// frame arrives in a few reads rather than dozens.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: 1024 * 1024)
}

/// Frame opcodes of the connection itself (0x00-0x0F). Storage uses 0x10-0x3F, metadata 0x40-0x9F.
public enum ConnectionOpcode {
    /// Server to client, first frame on every connection: 32 random bytes.
    public static let challenge: UInt8 = 0x00
    /// Client to server, first frame: HMAC-SHA256(cluster key, challenge).
    public static let authenticate: UInt8 = 0x01
    /// Any time after authentication: answered with an empty `ok`, by the wire layer itself.
    public static let ping: UInt8 = 0x02

    /// The opcode ranges of each service, so one service's server refuses another's requests.
    public static let connectionRange: ClosedRange<UInt8> = 0x00...0x0F
    public static let storageRange: ClosedRange<UInt8> = 0x10...0x3F
    public static let metadataRange: ClosedRange<UInt8> = 0x40...0x9F
}

extension ByteBuffer {
    /// Writes a frame's header for a payload of `payloadLength` bytes.
    @inlinable
    mutating func writeFrameHeader(opcode: UInt8, status: UInt16, requestID: UInt64, payloadLength: Int) {
        writeMultipleIntegers(
            Frame.magic, Frame.version, opcode, status, requestID, UInt32(payloadLength), UInt32(0)
        )
    }
}
