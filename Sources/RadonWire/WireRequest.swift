import NIOCore

/// A request as a server's handler sees it: the opcode, the payload (a slice of the frame) and
/// who sent it (already checked against the service's `WireAccess`).
public struct WireRequest: Sendable {
    public var opcode: UInt8
    public var payload: ByteBuffer
    public var peer: WirePeer

    public init(opcode: UInt8, payload: ByteBuffer, peer: WirePeer = .sharedKey) {
        self.opcode = opcode
        self.payload = payload
        self.peer = peer
    }

    /// Decodes the payload as `Message`, requiring it to be consumed exactly.
    public func decode<Message: WireMessage>(_ type: Message.Type = Message.self) throws -> Message {
        try Message(decoding: payload)
    }
}

/// A handler's answer: a status and a payload. A failure's payload is its message (a wire
/// string) and, for POSIX failures, the exact errno; `WireConnection.call` turns it back into
/// a thrown `WireError`.
public struct WireResponse: Sendable {
    public var status: WireStatus
    public var payload: ByteBuffer
    /// More payload bytes sent after `payload` as they are (`Frame.trailingPayload`): fragments
    /// read from disk go out without being copied behind the reply's fields.
    public var trailingPayload: [ByteBuffer]

    public init(status: WireStatus, payload: ByteBuffer, trailingPayload: [ByteBuffer] = []) {
        self.status = status
        self.payload = payload
        self.trailingPayload = trailingPayload
    }

    public static func ok(_ payload: ByteBuffer = ByteBuffer(), trailingPayload: [ByteBuffer] = []) -> WireResponse {
        WireResponse(status: .ok, payload: payload, trailingPayload: trailingPayload)
    }

    public static func ok(_ message: some WireMessage) -> WireResponse {
        .ok(message.encoded())
    }

    public static func failure(_ status: WireStatus, _ message: String) -> WireResponse {
        failure(WireError(status, message))
    }

    public static func failure(_ error: WireError) -> WireResponse {
        var payload = ByteBuffer()
        payload.writeWireString(error.message)
        payload.writeWireOptional(error.errno) { $0.writeInteger($1) }
        return WireResponse(status: error.status == .ok ? .internalError : error.status, payload: payload)
    }

    /// A POSIX failure, keeping its exact errno.
    public static func failure(_ error: FileSystemError) -> WireResponse {
        failure(WireError(error))
    }

    /// The reply for any error a handler threw: wire and POSIX errors keep their meaning,
    /// anything else is an internal error with its description.
    public static func failure(for error: any Error) -> WireResponse {
        switch error {
        case let error as WireError: failure(error)
        case let error as FileSystemError: failure(error)
        default: failure(.internalError, String(describing: error))
        }
    }

    /// Runs `body` and answers with its result, or with the failure it threw.
    public static func responding(_ body: () async throws -> ByteBuffer) async -> WireResponse {
        do {
            return .ok(try await body())
        } catch {
            return .failure(for: error)
        }
    }
}

extension WireError {
    /// The error a non-ok reply stands for. A payload that is not a well-formed error (an
    /// older or foreign peer) still yields the status, with no message.
    init(status: WireStatus, errorPayload: ByteBuffer) {
        var payload = errorPayload
        let message = (try? payload.readWireString(maximumLength: 64 * 1024)) ?? ""
        let errno = (try? payload.readWireOptional { try $0.readWireInteger(as: Int32.self) }) ?? nil
        self.init(status, message, errno: errno)
    }
}
