/// Why an erasure code refused a layout, a block or a set of fragments.
///
/// Every misuse has its own case so that callers (the client, the rebuild) can tell a missing
/// fragment from a corrupt request; a codec never crashes or returns wrong bytes on bad input.
public enum ErasureCodeError: Error, Sendable, Equatable {
    /// k or n - k outside what the codecs serve (2...16 and 1...8).
    case unsupportedLayout(k: Int, n: Int)
    /// A layout string that is neither "k+m" nor "k/n".
    case unparsableLayout(String)
    /// The block size is not one the codec accepts (see `ErasureCodeGeometry`).
    case unsupportedBlockSize(Int)
    /// The data handed to `encode` is not exactly `blockSize` bytes.
    case wrongDataSize(expected: Int, actual: Int)
    /// `encode` was given a number of fragment buffers other than n (or n - k for parity only).
    case wrongFragmentCount(expected: Int, actual: Int)
    /// Fragment `index` does not have the size this code gives it (often: another layout's fragment).
    case wrongFragmentSize(index: Int, expected: Int, actual: Int)
    /// The output buffer of `decode` is not `blockSize` bytes.
    case wrongOutputSize(expected: Int, actual: Int)
    /// Fewer than k distinct fragments: the block cannot be rebuilt.
    case tooFewFragments(needed: Int, available: Int)
    /// The same fragment index was given twice.
    case duplicateIndex(Int)
    /// A fragment index outside 0..<n.
    case indexOutOfRange(index: Int, fragmentCount: Int)
    /// The code cannot be used on this machine (e.g. a library call failed).
    case internalFailure(String)
}
