/// A fragment with the CRC32C of its bytes, computed when the fragment is made (from the
/// encoder's output, `ErasureCode.encodeWithChecksums`) and carried with it to the storage
/// node, which checks it before writing and stores it: whatever damages the bytes after this
/// point (the writer's memory, the wire, the node's buffers) is caught instead of stored under
/// a valid CRC.
public struct ChecksummedFragment: Sendable {
    public let bytes: [UInt8]
    public let checksum: UInt32

    public init(bytes: [UInt8], checksum: UInt32) {
        self.bytes = bytes
        self.checksum = checksum
    }
}
