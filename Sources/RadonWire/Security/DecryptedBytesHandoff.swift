import NIOCore

/// Sits right behind the TLS handler and passes on a copy of each decrypted buffer, sized to
/// its bytes, so nothing after it keeps the TLS handler's own buffer alive.
///
/// Why: NIOSSL decrypts every read into one buffer that it keeps and reuses. It hands that
/// buffer up the pipeline as it is, and the frame decoder behind it keeps it (a frame's payload
/// is a slice of it, held until the request is served). The next decryption then finds the
/// buffer shared, and NIOCore's copy-on-write copies its whole capacity (stale bytes included;
/// 1-2 MiB after a burst of fragment frames) into a new allocation before writing a byte. A
/// copy of just the bytes that arrived, made while they are still in the cache, leaves NIOSSL's
/// buffer unshared and reused in place: a profiled 512 MiB write through a storage daemon spent
/// as much time in that copy-on-write as in the decryption's own copy out of BoringSSL.
///
/// Invariant: the buffers it passes on share no storage with the buffers it received.
final class DecryptedBytesHandoff: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let decrypted = unwrapInboundIn(data)
        var copy = context.channel.allocator.buffer(capacity: decrypted.readableBytes)
        copy.writeImmutableBuffer(decrypted)
        context.fireChannelRead(wrapInboundOut(copy))
    }
}
