import NIOCore

/// A message written as buffers to send one after another (`Frame.trailingPayload`): fields go
/// into small buffers, and each large byte field stays the caller's buffer, not copied. Joined,
/// the parts are exactly what the one-buffer encoding writes, so a message defines its format
/// once, here, and `encode(into:)` joins the parts.
struct WireParts {
    private let allocator: ByteBufferAllocator
    private var parts: [ByteBuffer] = []
    /// Where the next fields are written.
    var fields: ByteBuffer

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        fields = allocator.buffer(capacity: 64)
    }

    /// A length-prefixed byte field, as `ByteBuffer.writeWireBytes` writes it, its bytes a part
    /// of their own.
    mutating func appendWireBytes(_ bytes: ByteBuffer) {
        fields.writeInteger(UInt32(bytes.readableBytes))
        parts.append(fields)
        parts.append(bytes)
        fields = allocator.buffer(capacity: 64)
    }

    /// The first part, to send as a frame's payload, and the rest after it.
    func finished() -> (payload: ByteBuffer, trailingPayload: [ByteBuffer]) {
        let all = parts + [fields]
        return (all[0], Array(all.dropFirst()))
    }

    /// Every part copied into `buffer`: the one-buffer encoding.
    func write(into buffer: inout ByteBuffer) {
        for part in parts { buffer.writeImmutableBuffer(part) }
        buffer.writeImmutableBuffer(fields)
    }
}
