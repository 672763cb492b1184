import RadonCodec
import Synchronization

/// One erasure-code instance per (codec, layout, block size), made once: codecs precompute
/// tables and are safe to share between threads.
final class CodecCache: Sendable {
    private struct Key: Hashable {
        var codec: String
        var k: UInt32
        var n: UInt32
        var blockSize: UInt32
    }

    /// The codecs made so far; guarded by the mutex.
    private let codecs = Mutex<[Key: any ErasureCode]>([:])

    func code(for volume: VolumeSettings) throws -> any ErasureCode {
        let key = Key(codec: volume.codec, k: volume.k, n: volume.n, blockSize: volume.blockSize)
        if let code = codecs.withLock({ $0[key] }) { return code }
        guard let kind = CodecKind(rawValue: volume.codec) else {
            throw FileSystemError.io("volume \(volume.name) uses codec \"\(volume.codec)\", which this client does not know")
        }
        do {
            let layout = try CodecLayout(k: Int(volume.k), n: Int(volume.n))
            let code = try makeErasureCode(kind: kind, layout: layout, blockSize: Int(volume.blockSize))
            codecs.withLock { $0[key] = code }
            return code
        } catch {
            throw FileSystemError.io("cannot make codec \(volume.codec) \(volume.k)/\(volume.n) for \(volume.blockSize)-byte blocks: \(error)")
        }
    }
}
