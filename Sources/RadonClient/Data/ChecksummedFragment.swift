import NIOCore
import RadonCodec

/// A fragment with the CRC32C of its bytes, computed when the fragment is made (from the
/// encoder's output, `ErasureCode.encodeWithChecksums`) and carried with it to the storage
/// node, which checks it before writing and stores it: whatever damages the bytes after this
/// point (the writer's memory, the wire, the node's buffers) is caught instead of stored under
/// a valid CRC.
///
/// The bytes are in a network buffer from the start: the write request sends that buffer as
/// it is, so a fragment is copied once after encoding, not three times.
struct ChecksummedFragment: Sendable {
    let bytes: ByteBuffer
    let checksum: UInt32
}

extension ErasureCode {
    /// Encodes `data` and gives each fragment in a buffer of its own with its CRC32C, computed
    /// from the encoder's own output before the bytes are copied anywhere: what a writer sends
    /// with a fragment so the node can tell whether the bytes it got are the ones encoded.
    func encodeWithChecksums(_ data: [UInt8]) throws(ErasureCodeError) -> [ChecksummedFragment] {
        try encode(data) { fragment in
            ChecksummedFragment(bytes: ByteBuffer(bytes: fragment), checksum: CRC32C.checksum(fragment))
        }
    }
}
