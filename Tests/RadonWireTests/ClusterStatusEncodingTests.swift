import NIOCore
import Testing
import RadonWire

/// The answering metadata server's advertised address is a trailing, optional field of a status
/// answer: it round trips, and an answer of a server from before it (no trailing bytes) still
/// decodes, as an empty address.
@Suite struct ClusterStatusEncodingTests {
    static func status(metaServer: String) -> ClusterStatus {
        ClusterStatus(nodes: [], groups: [], volumes: [], mapEpoch: 7, inodeCount: 42,
                      now: Timestamp(seconds: 1_700_000_000, nanoseconds: 5), metaServer: metaServer)
    }

    @Test func theAdvertisedAddressRoundTrips() throws {
        let status = Self.status(metaServer: "meta1.example.net:7400")
        #expect(try ClusterStatus(decoding: status.encoded()) == status)
    }

    @Test func anAnswerWithoutTheFieldIsTheOldLayoutAndDecodesAsNone() throws {
        let old = Self.status(metaServer: "")
        var buffer = ByteBuffer()
        buffer.writeWireArray([NodeInfo]()) { $1.encode(into: &$0) }
        buffer.writeWireArray([PlacementGroup]()) { $1.encode(into: &$0) }
        buffer.writeWireArray([VolumeSettings]()) { $1.encode(into: &$0) }
        buffer.writeInteger(old.mapEpoch)
        buffer.writeInteger(old.inodeCount)
        old.now.encode(into: &buffer)
        #expect(old.encoded() == buffer, "without an address the answer is the old layout")
        #expect(try ClusterStatus(decoding: buffer) == old)
    }
}
