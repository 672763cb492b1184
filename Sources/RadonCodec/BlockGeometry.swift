/// How a block is cut into k lines, shared by every codec so that their fragments line up.
///
/// A line is `ceil(blockSize / k)` bytes rounded up to one pixel (32 bytes). When k does not
/// divide the block the last line is shorter in the caller's buffer and is zero-padded by the
/// codec (a "ragged" last line); fragments always hold whole lines.
struct BlockGeometry: Sendable, Hashable {
    /// Bytes per Mojette pixel: one AVX2 register. Every line and projection is whole pixels.
    static let pixelSize = 32
    /// The largest block any codec accepts.
    static let maximumBlockSize = 64 << 20

    let layout: CodecLayout
    let blockSize: Int
    /// Bytes of one line (and of one systematic data fragment).
    let lineSize: Int

    var k: Int { layout.dataCount }
    var n: Int { layout.fragmentCount }
    /// Pixels per line.
    var linePixels: Int { lineSize / Self.pixelSize }
    /// k whole lines: the size of a block buffer that holds every line padded.
    var paddedBlockSize: Int { k * lineSize }
    /// Lines that lie wholly inside a `blockSize` buffer; the others (usually none, at most the
    /// last for the usual sizes) are short or absent there and are zero-padded by the codec.
    var wholeLineCount: Int { min(k, blockSize / lineSize) }

    init(layout: CodecLayout, blockSize: Int) throws(ErasureCodeError) {
        let pixel = Self.pixelSize
        guard blockSize % pixel == 0, blockSize >= pixel * layout.dataCount,
              blockSize <= Self.maximumBlockSize else {
            throw .unsupportedBlockSize(blockSize)
        }
        self.layout = layout
        self.blockSize = blockSize
        let line = (blockSize + layout.dataCount - 1) / layout.dataCount
        self.lineSize = (line + pixel - 1) / pixel * pixel
    }

    /// Bytes of `line` present in a `blockSize` buffer (less than `lineSize` only for a ragged
    /// last line; never negative).
    func storedBytes(ofLine line: Int) -> Int {
        max(0, min(lineSize, blockSize - line * lineSize))
    }
}

/// The fragments handed to a decoder, checked and indexed: slot i holds fragment i or nil.
struct IndexedFragments {
    var pointers: [UnsafeRawPointer?]
    var count: Int

    /// Checks indices, duplicates and sizes, so that a fragment of another layout or block size
    /// is refused before any byte is read.
    init(_ fragments: [(index: Int, bytes: UnsafeRawBufferPointer)], fragmentCount: Int,
         sizeOf: (Int) -> Int) throws(ErasureCodeError) {
        pointers = Array(repeating: nil, count: fragmentCount)
        count = 0
        for fragment in fragments {
            guard (0..<fragmentCount).contains(fragment.index) else {
                throw .indexOutOfRange(index: fragment.index, fragmentCount: fragmentCount)
            }
            guard pointers[fragment.index] == nil else { throw .duplicateIndex(fragment.index) }
            let expected = sizeOf(fragment.index)
            guard fragment.bytes.count == expected, let base = fragment.bytes.baseAddress else {
                throw .wrongFragmentSize(index: fragment.index, expected: expected, actual: fragment.bytes.count)
            }
            pointers[fragment.index] = base
            count += 1
        }
    }

    subscript(index: Int) -> UnsafeRawPointer? { pointers[index] }
}

extension BlockGeometry {
    /// Throws unless `fragments` holds n buffers of the given sizes.
    func checkOutputs(_ fragments: [UnsafeMutableRawBufferPointer], first: Int,
                      sizeOf: (Int) -> Int) throws(ErasureCodeError) {
        let expectedCount = n - first
        guard fragments.count == expectedCount else {
            throw .wrongFragmentCount(expected: expectedCount, actual: fragments.count)
        }
        for (offset, buffer) in fragments.enumerated() {
            let index = first + offset
            guard buffer.count == sizeOf(index), buffer.baseAddress != nil else {
                throw .wrongFragmentSize(index: index, expected: sizeOf(index), actual: buffer.count)
            }
        }
    }

    func checkData(_ data: UnsafeRawBufferPointer) throws(ErasureCodeError) {
        guard data.count == blockSize, data.baseAddress != nil else {
            throw .wrongDataSize(expected: blockSize, actual: data.count)
        }
    }

    /// Runs `body` with one pointer per line of `data`: straight into `data`, except short
    /// last lines, which are copied into zero-padded temporary lines.
    func withLinePointers<R>(of data: UnsafeRawBufferPointer,
                             _ body: ([UnsafeRawPointer]) throws(ErasureCodeError) -> R) throws(ErasureCodeError) -> R {
        let base = data.baseAddress!
        let whole = wholeLineCount
        guard whole < k else { return try body((0..<k).map { base + $0 * lineSize }) }
        let padded = UnsafeMutableRawBufferPointer.allocate(byteCount: (k - whole) * lineSize, alignment: 64)
        defer { padded.deallocate() }
        padded.initializeMemory(as: UInt8.self, repeating: 0)
        let lines = (0..<k).map { line -> UnsafeRawPointer in
            guard line >= whole else { return base + line * lineSize }
            let copy = padded.baseAddress! + (line - whole) * lineSize
            copy.copyMemory(from: base + line * lineSize, byteCount: storedBytes(ofLine: line))
            return UnsafeRawPointer(copy)
        }
        return try body(lines)
    }

    /// Runs `body` with one writable pointer per line of `output` (a `blockSize` buffer): short
    /// last lines are written to temporary lines and copied back, truncated, after `body`.
    func withOutputLinePointers<R>(of output: UnsafeMutableRawBufferPointer,
                                   _ body: ([UnsafeMutableRawPointer]) throws(ErasureCodeError) -> R) throws(ErasureCodeError) -> R {
        let base = output.baseAddress!
        let whole = wholeLineCount
        guard whole < k else { return try body((0..<k).map { base + $0 * lineSize }) }
        let padded = UnsafeMutableRawBufferPointer.allocate(byteCount: (k - whole) * lineSize, alignment: 64)
        defer { padded.deallocate() }
        let lines = (0..<k).map { line in
            line < whole ? base + line * lineSize : padded.baseAddress! + (line - whole) * lineSize
        }
        let result = try body(lines)
        for line in whole..<k where storedBytes(ofLine: line) > 0 {
            (base + line * lineSize).copyMemory(from: lines[line], byteCount: storedBytes(ofLine: line))
        }
        return result
    }
}

extension BlockGeometry {
    /// Copies the k lines of `data` into data fragments 0..<k, zero-padding short last lines.
    /// Returns the fragments as line pointers for the parity computation that follows.
    func copyLines(of data: UnsafeRawBufferPointer, into fragments: [UnsafeMutableRawBufferPointer]) -> [UnsafeRawPointer] {
        let source = data.baseAddress!
        return (0..<k).map { line in
            let stored = storedBytes(ofLine: line)
            let fragment = fragments[line].baseAddress!
            fragment.copyMemory(from: source + line * lineSize, byteCount: stored)
            (fragment + stored).initializeMemory(as: UInt8.self, repeating: 0, count: lineSize - stored)
            return UnsafeRawPointer(fragment)
        }
    }

    /// The checks every `decode` starts with: output size, then each fragment, then "at least k".
    func indexForDecoding(_ fragments: [(index: Int, bytes: UnsafeRawBufferPointer)], output: UnsafeMutableRawBufferPointer,
                          sizeOf: (Int) -> Int) throws(ErasureCodeError) -> IndexedFragments {
        guard output.count == blockSize, output.baseAddress != nil else {
            throw .wrongOutputSize(expected: blockSize, actual: output.count)
        }
        let indexed = try IndexedFragments(fragments, fragmentCount: n, sizeOf: sizeOf)
        guard indexed.count >= k else { throw .tooFewFragments(needed: k, available: indexed.count) }
        return indexed
    }

}

/// An in-place rebuild request, checked without touching the heap: the block buffer, the lost
/// data lines as a bit set and the parity fragments given, by parity index.
struct RebuildRequest {
    let base: UnsafeMutableRawPointer
    let lost: UInt32
    var parity = InlinePointers()
    /// Parity fragments given, bit j for fragment k + j.
    var parityGiven: UInt32 = 0

    var lostCount: Int { lost.nonzeroBitCount }

    /// The first `lostCount` parity fragments given, lowest index first (for Mojette the
    /// smallest |p|, the cheapest edges). Throws when there are not enough.
    func chosenParity(k: Int) throws(ErasureCodeError) -> UInt32 {
        var chosen: UInt32 = 0
        var remaining = parityGiven
        while chosen.nonzeroBitCount < lostCount, remaining != 0 {
            let lowest = remaining & (0 &- remaining)
            chosen |= lowest
            remaining &= ~lowest
        }
        guard chosen.nonzeroBitCount == lostCount else {
            throw .tooFewFragments(needed: k, available: k - lostCount + parityGiven.nonzeroBitCount)
        }
        return chosen
    }
}

extension BlockGeometry {
    /// The checks every in-place rebuild starts with: a padded block buffer, missing lines distinct and in range, parity fragments in range,
    /// distinct and of the right size, and no data fragment among them. On the stack: this is
    /// the hot path of every degraded read, where a few heap allocations cost more than a tenth
    /// of a 64 KiB rebuild.
    func checkRebuild(_ missingLines: [Int], in block: UnsafeMutableRawBufferPointer,
                      parity: [(index: Int, bytes: UnsafeRawBufferPointer)], sizeOf: (Int) -> Int) throws(ErasureCodeError) -> RebuildRequest {
        guard block.count == paddedBlockSize, let base = block.baseAddress else {
            throw .wrongOutputSize(expected: paddedBlockSize, actual: block.count)
        }
        var lost: UInt32 = 0
        for line in missingLines {
            guard (0..<k).contains(line) else { throw .indexOutOfRange(index: line, fragmentCount: k) }
            guard lost & (1 << UInt32(line)) == 0 else { throw .duplicateIndex(line) }
            lost |= 1 << UInt32(line)
        }
        var request = RebuildRequest(base: base, lost: lost)
        var given: UInt32 = 0
        for fragment in parity {
            guard (0..<n).contains(fragment.index) else { throw .indexOutOfRange(index: fragment.index, fragmentCount: n) }
            guard given & (1 << UInt32(fragment.index)) == 0 else { throw .duplicateIndex(fragment.index) }
            let expected = sizeOf(fragment.index)
            guard fragment.bytes.count == expected, let start = fragment.bytes.baseAddress else {
                throw .wrongFragmentSize(index: fragment.index, expected: expected, actual: fragment.bytes.count)
            }
            given |= 1 << UInt32(fragment.index)
            if fragment.index >= k {
                request.parity[fragment.index - k] = start
                request.parityGiven |= 1 << UInt32(fragment.index - k)
            }
        }
        let dataGiven = given & ((1 << UInt32(k)) - 1)
        if dataGiven != 0 { throw .indexOutOfRange(index: dataGiven.trailingZeroBitCount, fragmentCount: n) }
        return request
    }
}

