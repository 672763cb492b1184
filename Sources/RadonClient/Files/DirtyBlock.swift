/// A block the application wrote into and that is not sent yet.
struct DirtyBlock: Sendable {
    /// The whole block, `blockSize` bytes: the written bytes, and around them either the old
    /// contents (once known) or zeros.
    var bytes: [UInt8]
    /// Which bytes the application wrote.
    var written = ByteRangeSet()
    /// Whether the bytes not written are the block's real old contents (read, or known to be
    /// zeros because the block lies past what was ever stored); if not, sending it is a
    /// read-modify-write.
    var baseIsKnown: Bool

    init(blockSize: Int, baseIsKnown: Bool) {
        bytes = [UInt8](repeating: 0, count: blockSize)
        self.baseIsKnown = baseIsKnown
    }

    /// Copies `source` into the block at `offset` and remembers the range as written.
    mutating func write(_ source: ArraySlice<UInt8>, at offset: Int) {
        bytes.withUnsafeMutableBytes { target in
            source.withUnsafeBytes { source in
                target.baseAddress!.advanced(by: offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
        written.insert(offset..<offset + source.count)
    }

    /// Whether the block can be encoded without reading the old contents: every byte of it that
    /// lies inside the file was written (or the rest is known).
    func isComplete(effectiveLength: Int) -> Bool {
        baseIsKnown || written.covers(0..<effectiveLength)
    }

    /// Lays the written ranges over `base` (the block's old contents) and takes the result.
    mutating func merge(base: [UInt8]) {
        var merged = base
        if merged.count < bytes.count { merged += [UInt8](repeating: 0, count: bytes.count - merged.count) }
        for range in written.ranges {
            merged.replaceSubrange(range, with: bytes[range])
        }
        bytes = merged
        baseIsKnown = true
    }
}
