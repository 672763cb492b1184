/// A block the application wrote into and that is not sent yet.
///
/// Scattered small writes (4 KiB writes all over a large file) are kept as the pieces written,
/// so a write buffer of a few hundred MiB holds tens of thousands of them and a block leaves
/// with one read-modify-write for all the writes it gathered; a block written densely (a
/// sequential writer) or whose old contents were read is kept whole.
struct DirtyBlock: Sendable {
    /// Bytes written at `start`, not yet laid over the block's old contents.
    struct Piece: Sendable {
        var start: Int
        var bytes: [UInt8]
        var end: Int { start + bytes.count }
    }

    let blockSize: Int
    /// Which bytes the application wrote.
    private(set) var written = ByteRangeSet()
    /// Whether the bytes not written are the block's real old contents (read, or known to be
    /// zeros because the block lies past what was ever stored); if not, sending it is a
    /// read-modify-write.
    private(set) var baseIsKnown: Bool
    /// The whole block once dense: the written bytes, and around them the old contents (once
    /// known) or zeros. Nil while the block is kept as `pieces`.
    private var whole: [UInt8]?
    /// The written bytes of a sparse block: sorted, disjoint, not touching.
    private var pieces: [Piece] = []

    /// Bytes the pieces hold.
    private var pieceByteCount = 0

    /// Sparse pieces are gathered into the whole block once they hold half of it or are this
    /// many: past that, the whole block costs about as little memory, and less work.
    static let densityDenominator = 2
    static let maximumPieceCount = 256

    init(blockSize: Int, baseIsKnown: Bool) {
        self.blockSize = blockSize
        self.baseIsKnown = baseIsKnown
    }

    /// Bytes of memory the block holds: what the write buffer's capacity counts.
    var footprint: Int {
        whole == nil ? pieceByteCount : blockSize
    }

    /// Bytes the application wrote into the block.
    var writtenByteCount: Int { written.byteCount }

    /// Copies `source` into the block at `offset` and remembers the range as written.
    mutating func write(_ source: ArraySlice<UInt8>, at offset: Int) {
        guard !source.isEmpty else { return }
        written.insert(offset..<offset + source.count)
        // A write of the whole block (a sequential writer's 1 MiB requests on 1 MiB blocks) is
        // the block: one copy, no zero-filled block first.
        if whole == nil, pieces.isEmpty, offset == 0, source.count == blockSize {
            whole = Array(source)
            return
        }
        // A write that alone fills half the block (a sequential writer's) goes straight into
        // the whole block, not through a piece copied again a moment later.
        if whole == nil, (pieceByteCount + source.count) * Self.densityDenominator >= blockSize {
            makeWhole(over: nil)
        }
        if whole != nil {
            whole!.withUnsafeMutableBytes { target in
                source.withUnsafeBytes { source in
                    target.baseAddress!.advanced(by: offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
                }
            }
            return
        }
        insertPiece(source, at: offset)
        if footprint * Self.densityDenominator >= blockSize || pieces.count > Self.maximumPieceCount {
            makeWhole(over: nil)
        }
    }

    /// Whether the block can be encoded without reading the old contents: every byte of it that
    /// lies inside the file was written (or the rest is known).
    func isComplete(effectiveLength: Int) -> Bool {
        baseIsKnown || written.covers(0..<effectiveLength)
    }

    /// Lays the written bytes over `base` (the block's old contents) and keeps the result.
    mutating func merge(base: [UInt8]) {
        makeWhole(over: base)
        baseIsKnown = true
    }

    /// The bytes around the written ones are no longer known to be the block's old contents
    /// (another client changed the file): the block is read again before it leaves, and only
    /// the written bytes are laid over what it holds then.
    mutating func forgetBase() {
        baseIsKnown = false
    }

    /// The whole block; only meaningful once `isComplete` (unknown old bytes read as zeros).
    var bytes: [UInt8] {
        if let whole { return whole }
        var copy = self
        copy.makeWhole(over: nil)
        return copy.whole!
    }

    /// Keeps the block whole from now on (a reader of it takes the same array each time).
    mutating func makeWhole() {
        if whole == nil { makeWhole(over: nil) }
    }

    // MARK: Representation

    /// Builds the whole block: `base` (or zeros) with the written bytes over it.
    private mutating func makeWhole(over base: [UInt8]?) {
        var result = base ?? [UInt8](repeating: 0, count: blockSize)
        if result.count < blockSize { result += [UInt8](repeating: 0, count: blockSize - result.count) }
        if let whole {
            for range in written.ranges { result.replaceSubrange(range, with: whole[range]) }
        } else {
            for piece in pieces { result.replaceSubrange(piece.start..<piece.end, with: piece.bytes) }
        }
        whole = result
        pieces = []
        pieceByteCount = 0
    }

    /// Adds `source` at `offset` to the sparse pieces, over any bytes written there before,
    /// joining the pieces it overlaps or touches.
    private mutating func insertPiece(_ source: ArraySlice<UInt8>, at offset: Int) {
        let end = offset + source.count
        let first = pieces.firstIndex { $0.end >= offset } ?? pieces.endIndex
        var last = first
        while last < pieces.endIndex, pieces[last].start <= end { last += 1 }
        guard first < last else {
            pieces.insert(Piece(start: offset, bytes: Array(source)), at: first)
            pieceByteCount += source.count
            return
        }
        let start = min(offset, pieces[first].start)
        let stop = max(end, pieces[last - 1].end)
        pieceByteCount += (stop - start) - pieces[first..<last].reduce(0) { $0 + $1.bytes.count }
        // The common case of a writer going forward: extend the piece it continues in place.
        if last - first == 1, pieces[first].start <= offset {
            var piece = pieces[first]
            if piece.end < stop { piece.bytes += [UInt8](repeating: 0, count: stop - piece.end) }
            piece.bytes.replaceSubrange(offset - piece.start..<end - piece.start, with: source)
            pieces[first] = piece
            return
        }
        var joined = [UInt8](repeating: 0, count: stop - start)
        for piece in pieces[first..<last] {
            joined.replaceSubrange(piece.start - start..<piece.end - start, with: piece.bytes)
        }
        joined.replaceSubrange(offset - start..<end - start, with: source)
        pieces.replaceSubrange(first..<last, with: [Piece(start: start, bytes: joined)])
    }
}
