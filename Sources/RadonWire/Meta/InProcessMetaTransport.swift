import NIOCore

/// A `MetaTransport` that hands each call to a handler in the same process, as the wire server
/// would: for an exporter or a console living beside the metadata service, which then sees
/// exactly what a remote client sees (a standby answers `notActive`), without a socket.
public struct InProcessMetaTransport: MetaTransport {
    let handle: @Sendable (WireRequest) async -> WireResponse

    public init(handle: @escaping @Sendable (WireRequest) async -> WireResponse) {
        self.handle = handle
    }

    public func call(metaOpcode opcode: UInt8, payload: ByteBuffer, timeout: Duration) async throws -> ByteBuffer {
        let response = await handle(WireRequest(opcode: opcode, payload: payload))
        guard response.status == .ok else { throw WireError(status: response.status, errorPayload: response.payload) }
        return response.payload
    }
}
