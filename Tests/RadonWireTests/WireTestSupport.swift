import Logging
import NIOCore
@testable import RadonWire

/// An echo-style server for the wire tests: opcode 0x10 echoes, 0x11 echoes after a random
/// delay, 0x12 decodes a `TestMessage` and answers it doubled, 0x13 fails with a POSIX error,
/// 0x14 answers after 3 s, 0x15 after 100 ms.
func startTestServer(key: ClusterKey, authenticationTimeout: Duration = .seconds(10)) async throws -> WireServer {
    try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: Logger(label: "test"), limits: WireServer.Limits(authenticationTimeout: authenticationTimeout)) { request in
        switch request.opcode {
        case 0x10:
            return .ok(request.payload)
        case 0x11:
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
            return .ok(request.payload)
        case 0x12:
            return await WireResponse.responding {
                var message = try request.decode(TestMessage.self)
                message.number *= 2
                message.text += message.text
                return message.encoded()
            }
        case 0x13:
            return .failure(FileSystemError.notPermitted("no"))
        case 0x14:
            try? await Task.sleep(for: .seconds(3))
            return .ok()
        case 0x15:
            try? await Task.sleep(for: .milliseconds(100))
            return .ok(request.payload)
        default:
            return .failure(.unsupported, "opcode \(request.opcode)")
        }
    }
}

struct TestMessage: WireMessage, Equatable {
    var number: UInt64
    var text: String
    var flag: Bool
    var bytes: [UInt8]
    var optional: UInt32?
    var list: [String]

    init(number: UInt64, text: String, flag: Bool, bytes: [UInt8], optional: UInt32?, list: [String]) {
        self.number = number
        self.text = text
        self.flag = flag
        self.bytes = bytes
        self.optional = optional
        self.list = list
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(number)
        buffer.writeWireString(text)
        buffer.writeWireBool(flag)
        buffer.writeWireBytes(bytes)
        buffer.writeWireOptional(optional) { $0.writeInteger($1) }
        buffer.writeWireArray(list) { $0.writeWireString($1) }
    }

    init(from buffer: inout ByteBuffer) throws {
        number = try buffer.readWireInteger()
        text = try buffer.readWireString()
        flag = try buffer.readWireBool()
        bytes = try buffer.readWireBytes()
        optional = try buffer.readWireOptional { try $0.readWireInteger() }
        list = try buffer.readWireArray { try $0.readWireString() }
    }
}
