/// One erasure code for one layout and one block size: k data lines in, n fragments out, and any
/// k fragments (with their indices) back to the block.
///
/// Instances are immutable and `Sendable`: one instance serves every thread of a process at once.
/// Per-call scratch lives on the caller's stack or in buffers the caller owns, never in the
/// instance, so there is no lock on the hot path (Reed-Solomon only locks its small table cache).
public protocol ErasureCode: Sendable {
    var kind: CodecKind { get }
    var layout: CodecLayout { get }
    /// Bytes of data per block; `encode` takes exactly this many.
    var blockSize: Int { get }
    /// True when fragments 0..<k are the data lines verbatim, so a reader holding all of them
    /// needs no decoding at all.
    var isSystematic: Bool { get }
    /// Bytes of fragment `index` (0..<n) for this block size. Mojette projections are a little
    /// longer than a line and differ with their slope; Reed-Solomon fragments are all one line.
    func fragmentSize(at index: Int) -> Int
    /// Encodes one block. `data.count == blockSize` (callers zero-pad a short last block);
    /// `fragments` holds n caller-allocated buffers, buffer i of `fragmentSize(at: i)` bytes.
    func encode(_ data: UnsafeRawBufferPointer, into fragments: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError)
    /// Rebuilds the block from any k (or more) fragments with their indices into `output`
    /// (`blockSize` bytes). Extra fragments are ignored; the fastest subset is used.
    func decode(_ fragments: [(index: Int, bytes: UnsafeRawBufferPointer)], into output: UnsafeMutableRawBufferPointer) throws(ErasureCodeError)
}

extension ErasureCode {
    /// Bytes stored for one block: the sum of all n fragment sizes.
    public var storedBytesPerBlock: Int {
        (0..<layout.fragmentCount).reduce(0) { $0 + fragmentSize(at: $1) }
    }

    /// Bytes stored per data byte (n/k plus the Mojette projections' few extra bins).
    public var storageOverhead: Double { Double(storedBytesPerBlock) / Double(blockSize) }

    /// Array-based encode for callers and tests that do not manage buffers themselves.
    public func encode(_ data: [UInt8]) throws(ErasureCodeError) -> [[UInt8]] {
        try encode(data) { Array($0) }
    }

    /// Encodes `data` into buffers of its own and hands each fragment to `take`, in order: the
    /// caller copies each where it is going (an array, a network buffer) and may checksum the
    /// encoder's own output first. The pointer is valid only during its call of `take`.
    public func encode<Fragment>(
        _ data: [UInt8], _ take: (UnsafeRawBufferPointer) -> Fragment
    ) throws(ErasureCodeError) -> [Fragment] {
        let buffers = (0..<layout.fragmentCount).map {
            UnsafeMutableRawBufferPointer.allocate(byteCount: fragmentSize(at: $0), alignment: 64)
        }
        defer { buffers.forEach { $0.deallocate() } }
        try data.withUnsafeBytes { bytes in
            Result { () throws(ErasureCodeError) in try encode(bytes, into: buffers) }
        }.get()
        return buffers.map { take(UnsafeRawBufferPointer($0)) }
    }

    /// Array-based decode: fragments keyed by index, the block back. The arrays are read in
    /// place, not copied.
    public func decode(_ fragments: [Int: [UInt8]]) throws(ErasureCodeError) -> [UInt8] {
        try decode(fragments.sorted { $0.key < $1.key }.map { (index: $0.key, bytes: $0.value) })
    }

    /// The block from fragments held in any `FragmentBytes` (arrays, a client's received
    /// network buffers), each read in place while the codec runs, into a zeroed block.
    public func decode<Bytes: FragmentBytes>(_ fragments: [(index: Int, bytes: Bytes)]) throws(ErasureCodeError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: blockSize)
        try withBytes(of: fragments.map(\.bytes)[...], pinned: []) { (buffers) throws(ErasureCodeError) in
            let indexed = zip(fragments, buffers).map { (index: $0.0.index, bytes: $0.1) }
            try output.withUnsafeMutableBytes { out in
                Result { () throws(ErasureCodeError) in try decode(indexed, into: out) }
            }.get()
        }
        return output
    }

    /// Calls `body` with read-only views of all `fragments`, each pinned by a nested
    /// `withFragmentBytes`.
    private func withBytes<Bytes: FragmentBytes>(of fragments: ArraySlice<Bytes>, pinned: [UnsafeRawBufferPointer],
                                                 _ body: ([UnsafeRawBufferPointer]) throws(ErasureCodeError) -> Void) throws(ErasureCodeError) {
        guard let first = fragments.first else { return try body(pinned) }
        try first.withFragmentBytes { bytes in
            Result { () throws(ErasureCodeError) in try withBytes(of: fragments.dropFirst(), pinned: pinned + [bytes], body) }
        }.get()
    }
}

/// Bytes of one fragment that lend a read-only view of themselves for as long as a call runs:
/// what `ErasureCode.decode(_:)` reads in place, whatever holds them.
public protocol FragmentBytes {
    func withFragmentBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension Array: FragmentBytes where Element == UInt8 {
    public func withFragmentBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

/// A systematic code whose data fragments can stay where they are: a writer sends slices of its
/// block as fragments 0..<k and only computes the n - k parity fragments, and a reader receives
/// the data fragments straight into its block buffer and only rebuilds the lines it lacks.
/// Both skip a copy of the whole block, which is most of the cost at these speeds.
public protocol SystematicErasureCode: ErasureCode {
    /// Bytes of one data line (fragments 0..<k): ceil(blockSize / k) rounded up to 32 bytes.
    var lineSize: Int { get }
    /// Computes only the parity fragments k..<n into `parity` (n - k buffers, buffer j being
    /// fragment k + j). `data.count == blockSize`.
    func encodeParity(_ data: UnsafeRawBufferPointer, into parity: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError)
    /// Rebuilds the data lines in `missingLines` in place. `block` is k * lineSize bytes and holds
    /// every other data line at offset line * lineSize; `parity` holds at least
    /// `missingLines.count` parity fragments (indices k..<n).
    func reconstructLines(_ missingLines: [Int], in block: UnsafeMutableRawBufferPointer,
                          parity: [(index: Int, bytes: UnsafeRawBufferPointer)]) throws(ErasureCodeError)
}

/// Makes the code a volume asks for. Validates the layout and the block size up front so that
/// encode and decode only check their arguments.
///
/// Valid block sizes (every codec): a multiple of 32 bytes from 32 * k up to 64 MiB. A block is
/// cut into k lines of `ceil(blockSize / k)` bytes rounded up to 32 (the Mojette pixel); the
/// last line is zero-padded internally when k does not divide the block, so k = 6, 10 or 12 work
/// with 1 MiB blocks and `encode` still takes exactly `blockSize` bytes.
public func makeErasureCode(kind: CodecKind, layout: CodecLayout, blockSize: Int) throws(ErasureCodeError) -> any ErasureCode {
    switch kind {
    case .mojetteSystematic: try MojetteSystematicCode(layout: layout, blockSize: blockSize)
    case .mojetteClassic: try MojetteClassicCode(layout: layout, blockSize: blockSize)
    case .reedSolomon: try ReedSolomonCode(layout: layout, blockSize: blockSize)
    }
}
