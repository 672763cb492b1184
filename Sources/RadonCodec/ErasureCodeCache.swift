import Synchronization

/// One erasure-code instance per (codec, layout, block size), made on first use and shared.
///
/// Codecs precompute tables (ISA-L's matrices, Mojette's per-pattern plans) and are safe to use
/// from many threads, so the client and the rebuild workers keep one of these instead of making
/// a codec per block.
public final class ErasureCodeCache: Sendable {
    private struct Key: Hashable {
        var kind: CodecKind
        var layout: CodecLayout
        var blockSize: Int
    }

    /// The codecs made so far; guarded by the mutex (held only for a lookup or an insert).
    private let codes = Mutex<[Key: any ErasureCode]>([:])

    public init() {}

    /// The shared instance for these settings, made now if it is the first request.
    public func code(kind: CodecKind, layout: CodecLayout, blockSize: Int) throws(ErasureCodeError) -> any ErasureCode {
        let key = Key(kind: kind, layout: layout, blockSize: blockSize)
        if let code = codes.withLock({ $0[key] }) { return code }
        let code = try makeErasureCode(kind: kind, layout: layout, blockSize: blockSize)
        codes.withLock { $0[key] = code }
        return code
    }
}
