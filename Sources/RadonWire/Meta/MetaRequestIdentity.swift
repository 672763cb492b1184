import NIOCore

/// The id a client gives one mutating request, kept across every retry of that request, so
/// that the service can answer a retry of a request that committed with the reply it had
/// then instead of running it again (a retried create must not answer EEXIST).
///
/// `client` is random per client process, `sequence` counts that client's requests: the pair
/// is unique without any coordination.
public struct MetaRequestIdentity: Sendable, Hashable, CustomStringConvertible {
    public var client: UInt64
    public var sequence: UInt64

    public init(client: UInt64, sequence: UInt64) {
        self.client = client
        self.sequence = sequence
    }

    public var description: String { "\(String(client, radix: 16)):\(sequence)" }
}

/// The `MetaOpcode.identified` envelope: a request id, whether this is a retry, then the
/// inner opcode and payload. The service runs the inner request under the id; its reply is the
/// inner request's reply.
///
/// `isRetry` is false on a request's first send only. No attempt of a request can have
/// committed before its first send, so the service skips the operation log's lookup for it
/// (one database round trip per mutation); every later send asks the log.
public struct IdentifiedRequest: WireMessage {
    public var identity: MetaRequestIdentity
    public var isRetry: Bool
    public var opcode: UInt8
    public var payload: ByteBuffer

    public init(identity: MetaRequestIdentity, isRetry: Bool, opcode: UInt8, payload: ByteBuffer) {
        self.identity = identity
        self.isRetry = isRetry
        self.opcode = opcode
        self.payload = payload
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireInteger(identity.client)
        buffer.writeWireInteger(identity.sequence)
        buffer.writeWireInteger(UInt8(isRetry ? 1 : 0))
        buffer.writeWireInteger(opcode)
        var payload = self.payload
        buffer.writeBuffer(&payload)
    }

    public init(from buffer: inout ByteBuffer) throws {
        identity = MetaRequestIdentity(client: try buffer.readWireInteger(), sequence: try buffer.readWireInteger())
        let flags: UInt8 = try buffer.readWireInteger()
        guard flags <= 1 else { throw WireError(.badRequest, "identified request flags 0x\(String(flags, radix: 16)) are unknown") }
        isRetry = flags == 1
        opcode = try buffer.readWireInteger()
        payload = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
    }
}

extension MetaOpcode {
    /// Whether the request changes the database: only these carry a request id (through
    /// `identified`) and are answered from the operation log when retried. Session, lock,
    /// token and hold requests change only the service's memory, which a restart loses anyway.
    public var isLoggedMutation: Bool {
        switch self {
        case .setAttributes, .create, .makeDirectory, .makeSymbolicLink, .remove, .removeDirectory, .rename, .link,
             .setExtendedAttribute, .removeExtendedAttribute, .updateSizeAfterWrite, .writeInline, .clearInline,
             .confirmDeletions, .createVolume, .replaceMember, .trashRestore, .trashPurge:
            true
        default:
            false
        }
    }
}
