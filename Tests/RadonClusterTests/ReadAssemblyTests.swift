@testable import RadonClient
import Testing

/// A read's bytes put together from its blocks: every byte written (the array is not
/// zero-filled first), zeros past a short block, and a whole-block read is the block itself.
struct ReadAssemblyTests {
    static let geometry = BlockGeometry(blockSize: 64)

    static func block(_ index: Int, count: Int = 64) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: index * 64 + $0 + 1) }
    }

    @Test(arguments: [(0, 64), (10, 30), (50, 100), (3, 190), (64, 64), (1, 1)])
    func theBytesOfEveryPieceInOrder(offset: Int, length: Int) {
        let pieces = Self.geometry.pieces(offset: UInt64(offset), count: length)
        let blocks = pieces.map { Self.block(Int($0.blockIndex)) }
        let expected = (offset..<offset + length).map { UInt8(truncatingIfNeeded: $0 + 1) }
        #expect(OpenFile.assemble(pieces, of: blocks, length: length) == expected)
    }

    @Test func zerosPastAShortBlockAndForABlockWithNoBytes() {
        let pieces = Self.geometry.pieces(offset: 40, count: 100)
        let blocks = [Self.block(0, count: 50), [], Self.block(2, count: 10)]
        var expected = [UInt8](repeating: 0, count: 100)
        for position in 40..<50 { expected[position - 40] = UInt8(position + 1) }
        for position in 128..<138 { expected[position - 40] = UInt8(truncatingIfNeeded: position + 1) }
        // Garbage left in freed memory must not show through: run it often.
        for _ in 0..<50 { #expect(OpenFile.assemble(pieces, of: blocks, length: 100) == expected) }
    }

    @Test func aWholeBlockReadIsTheBlock() {
        let pieces = Self.geometry.pieces(offset: 128, count: 64)
        let block = Self.block(2)
        let assembled = OpenFile.assemble(pieces, of: [block], length: 64)
        #expect(assembled == block)
        let sameStorage = assembled.withUnsafeBufferPointer { a in block.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress } }
        #expect(sameStorage)
    }
}
