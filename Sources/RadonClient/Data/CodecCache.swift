import RadonCodec

/// The volume's erasure code, from the shared `ErasureCodeCache`, with the client's errors.
final class CodecCache: Sendable {
    private let codes = ErasureCodeCache()

    func code(for volume: VolumeSettings) throws -> any ErasureCode {
        guard let kind = CodecKind(rawValue: volume.codec) else {
            throw FileSystemError.io("volume \(volume.name) uses codec \"\(volume.codec)\", which this client does not know")
        }
        do {
            let layout = try CodecLayout(k: Int(volume.k), n: Int(volume.n))
            return try codes.code(kind: kind, layout: layout, blockSize: Int(volume.blockSize))
        } catch {
            throw FileSystemError.io("cannot make codec \(volume.codec) \(volume.k)/\(volume.n) for \(volume.blockSize)-byte blocks: \(error)")
        }
    }
}
