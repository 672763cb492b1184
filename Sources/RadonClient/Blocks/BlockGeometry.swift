/// Where the bytes of a file fall in its blocks.
///
/// Every part of the data path speaks in blocks (the unit the codec encodes and a fragment slot
/// holds); this is the one place that turns byte offsets into block indices and back, so the
/// off-by-one cases (a block's last byte, the file's partial last block) are decided once.
public struct BlockGeometry: Sendable, Hashable {
    /// Bytes per block, the volume's block size.
    public let blockSize: Int

    public init(blockSize: Int) {
        precondition(blockSize > 0, "a block holds at least one byte")
        self.blockSize = blockSize
    }

    /// One block's share of a byte range.
    public struct Piece: Sendable, Hashable {
        /// The block the piece lies in.
        public var blockIndex: UInt64
        /// Where the piece starts inside that block.
        public var offsetInBlock: Int
        /// How many bytes it covers.
        public var length: Int
        /// Where the piece starts inside the caller's range (its buffer).
        public var offsetInRange: Int
    }

    /// The block that holds byte `offset`.
    public func blockIndex(containing offset: UInt64) -> UInt64 {
        offset / UInt64(blockSize)
    }

    /// The file offset of block `index`'s first byte.
    public func startOfBlock(_ index: UInt64) -> UInt64 {
        index * UInt64(blockSize)
    }

    /// How many blocks a file of `size` bytes spans (its last one possibly partial).
    public func blockCount(forFileSize size: UInt64) -> UInt64 {
        (size + UInt64(blockSize) - 1) / UInt64(blockSize)
    }

    /// How many bytes of block `index` lie inside a file of `fileSize` bytes: `blockSize` for a
    /// block before the last, less for the partial last one, 0 beyond the end.
    public func effectiveLength(ofBlock index: UInt64, fileSize: UInt64) -> Int {
        let start = startOfBlock(index)
        guard fileSize > start else { return 0 }
        return Int(min(UInt64(blockSize), fileSize - start))
    }

    /// The pieces, block by block in order, of the `count` bytes at `offset`.
    public func pieces(offset: UInt64, count: Int) -> [Piece] {
        guard count > 0 else { return [] }
        var pieces: [Piece] = []
        var done = 0
        while done < count {
            let position = offset + UInt64(done)
            let index = blockIndex(containing: position)
            let inBlock = Int(position - startOfBlock(index))
            let length = min(blockSize - inBlock, count - done)
            pieces.append(Piece(blockIndex: index, offsetInBlock: inBlock, length: length, offsetInRange: done))
            done += length
        }
        return pieces
    }
}
