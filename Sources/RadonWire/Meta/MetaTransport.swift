import NIOCore

/// How a `MetaClient`'s calls reach a metadata server.
///
/// A `WireConnection` is the plain transport: one server, no retries (tools and tests that
/// want to see every failure). `MetaFailover` is the one clients use in production: every
/// metadata address, retries through outages, and request ids on mutations.
public protocol MetaTransport: Sendable {
    /// Sends `payload` as `opcode` (a `MetaOpcode` or a `MetaHealingOpcode`) and returns the
    /// reply payload; a non-ok reply throws its `WireError`.
    func call(metaOpcode opcode: UInt8, payload: ByteBuffer, timeout: Duration) async throws -> ByteBuffer
}

extension WireConnection: MetaTransport {
    public func call(metaOpcode opcode: UInt8, payload: ByteBuffer, timeout: Duration) async throws -> ByteBuffer {
        try await call(opcode: opcode, payload: payload, timeout: timeout)
    }
}
