@testable import RadonClient
import RadonCodec
import Testing

/// The fragments a writer sends, made straight into network buffers for systematic codes, are
/// the codec's own fragments, each with the CRC32C of its bytes.
struct ChecksummedEncodeTests {
    @Test(arguments: [
        (CodecKind.mojetteSystematic, "4+2", 1 << 20), (.mojetteSystematic, "10+4", 352), (.mojetteSystematic, "6+3", 1 << 20),
        (.reedSolomon, "4+2", 4096), (.reedSolomon, "10+4", 64 * 1024 + 32), (.mojetteClassic, "4+2", 4096),
    ])
    func fragmentsEqualTheCodecsWithTheirChecksums(kind: CodecKind, layout: String, blockSize: Int) throws {
        let code = try makeErasureCode(kind: kind, layout: try CodecLayout(parsing: layout), blockSize: blockSize)
        let data = (0..<blockSize).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let expected = try code.encode(data)
        let sent = try code.encodeWithChecksums(data)
        #expect(sent.count == expected.count)
        for (fragment, bytes) in zip(sent, expected) {
            #expect(Array(fragment.bytes.readableBytesView) == bytes)
            #expect(fragment.checksum == CRC32C.checksum(bytes))
        }
    }

    @Test func aBlockOfTheWrongSizeIsRefused() throws {
        let code = try makeErasureCode(kind: .mojetteSystematic, layout: try CodecLayout(parsing: "4+2"), blockSize: 4096)
        #expect(throws: ErasureCodeError.self) { try code.encodeWithChecksums([UInt8](repeating: 1, count: 4000)) }
    }
}
