import NIOCore
@testable import RadonClient
import RadonCodec
import Testing

/// A block decoded from received fragment buffers, read in place, is the block that was
/// encoded: with every data line (the copy into an unzeroed block), and with lines lost.
struct ReceivedFragmentsDecodeTests {
    /// The fragments of `data` as a daemon's reply carries them: slices of one larger buffer,
    /// each starting past other bytes.
    static func received(_ fragments: [[UInt8]]) -> [ByteBuffer] {
        var reply = ByteBuffer()
        var offsets: [Range<Int>] = []
        for fragment in fragments {
            reply.writeRepeatingByte(0xAB, count: 13)
            offsets.append(reply.writerIndex..<reply.writerIndex + fragment.count)
            reply.writeBytes(fragment)
        }
        return offsets.map { reply.getSlice(at: $0.lowerBound, length: $0.count)! }
    }

    @Test(arguments: [
        (CodecKind.mojetteSystematic, "4+2", 1 << 20), (.mojetteSystematic, "10+4", 320), (.mojetteSystematic, "10+4", 352),
        (.reedSolomon, "4+2", 4096), (.reedSolomon, "6+3", 64 * 1024 + 96), (.mojetteClassic, "4+2", 4096),
    ])
    func theBlockComesBackWithEveryDataLineAndWithLinesLost(kind: CodecKind, layout: String, blockSize: Int) throws {
        let code = try makeErasureCode(kind: kind, layout: try CodecLayout(parsing: layout), blockSize: blockSize)
        var generator = SystemRandomNumberGenerator()
        let data = (0..<blockSize).map { _ in UInt8.random(in: 1...255, using: &generator) }
        let fragments = Self.received(try code.encode(data))
        let k = code.layout.dataCount
        let n = code.layout.fragmentCount

        let allData = (0..<k).map { (index: $0, bytes: fragments[$0]) }
        #expect(try code.decodeBlock(from: allData) == data)
        #expect(try code.decodeBlock(from: allData.reversed()) == data, "in any order")

        let lost = Set([1, k - 1])
        let survivors = (0..<n).filter { !lost.contains($0) }.prefix(k).map { (index: $0, bytes: fragments[$0]) }
        #expect(try code.decodeBlock(from: survivors) == data)
    }

    @Test func aShortDataLineIsNotCopiedAsALine() throws {
        let code = try makeErasureCode(kind: .mojetteSystematic, layout: try CodecLayout(parsing: "4+2"), blockSize: 4096)
        let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var fragments = Self.received(try code.encode(data))
        fragments[2] = fragments[2].getSlice(at: fragments[2].readerIndex, length: 100)!
        #expect(throws: ErasureCodeError.self) {
            try code.decodeBlock(from: (0..<4).map { (index: $0, bytes: fragments[$0]) })
        }
    }
}
