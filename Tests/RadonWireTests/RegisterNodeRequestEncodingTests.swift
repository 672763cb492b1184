import NIOCore
import Testing
import RadonWire

/// The file system id is a trailing, optional field of a registration: requests with it round
/// trip, and requests of daemons from before it (no trailing bytes) still decode.
@Suite struct RegisterNodeRequestEncodingTests {
    static func request(fileSystemID: String) -> RegisterNodeRequest {
        RegisterNodeRequest(
            uuid: "6f1c1f2e-0000-4000-8000-000000000001", address: WireAddress(host: "10.0.0.7", port: 7401),
            hostID: "rack-2", dataDirectory: "/srv/radonfs/node-1", pid: 4242, capacity: 1 << 40, free: 1 << 39,
            fileSystemID: fileSystemID)
    }

    @Test func theFileSystemIDRoundTrips() throws {
        let request = Self.request(fileSystemID: "3d1219c7c4c5404aaa1f6d2a48adfda4 fsid:d15c2483e0fef4b0 dev:fe00")
        let decoded = try RegisterNodeRequest(decoding: request.encoded())
        #expect(decoded == request)
        #expect(decoded.fileSystemID == request.fileSystemID)
    }

    @Test func aRequestWithoutTheFieldDecodesAsNone() throws {
        // The layout daemons wrote before the field existed, byte for byte.
        let old = Self.request(fileSystemID: "")
        var buffer = ByteBuffer()
        buffer.writeWireString(old.uuid)
        buffer.writeWireString(old.address.host)
        buffer.writeInteger(UInt16(old.address.port))
        buffer.writeWireString(old.hostID)
        buffer.writeWireString(old.dataDirectory)
        buffer.writeInteger(old.pid)
        buffer.writeInteger(old.capacity)
        buffer.writeInteger(old.free)
        #expect(try RegisterNodeRequest(decoding: buffer) == old)
        #expect(old.encoded() == buffer, "without a file system id the request is the old layout")
        let withID = Self.request(fileSystemID: "disk").encoded()
        #expect(withID.readableBytes == buffer.readableBytes + 4 + 4, "the id only adds its length and bytes at the end")
    }

    @Test func aBadTrailingFieldIsRefused() throws {
        var truncated = Self.request(fileSystemID: "disk").encoded()
        truncated.moveWriterIndex(to: truncated.writerIndex - 1)
        #expect(throws: WireError.self) { try RegisterNodeRequest(decoding: truncated) }
        var tooLong = Self.request(fileSystemID: "").encoded()
        tooLong.writeWireString(String(repeating: "x", count: 1025))
        #expect(throws: WireError.self) { try RegisterNodeRequest(decoding: tooLong) }
        var extra = Self.request(fileSystemID: "disk").encoded()
        extra.writeInteger(UInt8(0))
        #expect(throws: WireError.self) { try RegisterNodeRequest(decoding: extra) }
    }
}
