import RadonCodec

/// A fragment with the CRC32C of its bytes, computed when the fragment is made (from the
/// encoder's output) and carried with it to the storage node, which checks it before writing
/// and stores it: whatever damages the bytes after this point (this process's memory, the
/// wire, the node's buffers) is caught instead of stored under a valid CRC.
struct ChecksummedFragment: Sendable {
    let bytes: [UInt8]
    let checksum: UInt32
}

extension ErasureCode {
    /// The n fragments of `block`, each checksummed as it leaves the encoder.
    func encodeChecksummed(_ block: [UInt8]) throws -> [ChecksummedFragment] {
        try encodeWithChecksums(block).map { ChecksummedFragment(bytes: $0.bytes, checksum: $0.checksum) }
    }
}
