import CISAL

/// CRC32C (Castagnoli), the checksum every stored fragment slot carries.
///
/// ISA-L's `crc32_iscsi` uses the SSE4.2 `crc32` instruction (and folding with `pclmulqdq`),
/// several GB/s per core, so checking every fragment on every read costs little next to the
/// network and the disk.
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `seed` (0 for a fresh checksum).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        // ISA-L's iSCSI CRC takes and returns the register without the final inversion.
        let pointer = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        return ~crc32_iscsi(pointer, Int32(bytes.count), ~seed)
    }

    /// The checksum of a byte array.
    public static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }
}
