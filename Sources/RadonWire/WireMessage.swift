import NIOCore

/// A request or reply payload that knows its own binary encoding.
///
/// Encodings are hand-written with the `ByteBuffer` helpers below (fixed-width big-endian
/// integers, length-prefixed strings and bytes) rather than Codable: the storage path carries
/// megabytes per frame, and a decoder that slices the frame's buffer copies nothing.
/// Decoding must throw `WireError` (`.badRequest`) on any malformed input, never trap.
public protocol WireMessage: Sendable {
    func encode(into buffer: inout ByteBuffer)
    init(from buffer: inout ByteBuffer) throws
}

extension WireMessage {
    /// This message in a fresh buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }

    /// Decodes a whole payload; bytes left over mean the peer sent something else.
    public init(decoding payload: ByteBuffer) throws {
        var buffer = payload
        try self.init(from: &buffer)
        guard buffer.readableBytes == 0 else {
            throw WireError(.badRequest, "\(buffer.readableBytes) unexpected trailing bytes")
        }
    }
}

/// The payload of requests and replies that carry nothing.
public struct WireEmpty: WireMessage, Hashable {
    public init() {}
    public func encode(into buffer: inout ByteBuffer) {}
    public init(from buffer: inout ByteBuffer) throws {}
}
