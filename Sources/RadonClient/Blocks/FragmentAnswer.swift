import NIOCore
import RadonCodec

/// What one storage node said about one fragment slot of one block.
public enum FragmentAnswer: Sendable {
    /// The slot holds a fragment that passed the node's CRC check. `checksum` is the CRC32C
    /// the bytes left the node with (the writer's, for a whole fragment), checked again here
    /// (`verified`) before the bytes count. `bytes` is the received frame's buffer as it came
    /// (a slice of the socket's read, or the frame's own buffer): decoding reads it in place.
    case present(version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32)
    /// The node has no such slot (never written, or truncated away).
    case missing
    /// The slot exists but its CRC (or header) is wrong: the data rotted, a write was torn, or
    /// the bytes were damaged on their way here.
    case corrupt
    /// The node did not answer usefully: down, timed out, or an error.
    case failed(String)

    /// This answer, or `.corrupt` when its bytes do not match the checksum they came with: a
    /// bit flipped after the node checked them (on the wire, in this process's buffers) makes
    /// the fragment as unusable as rot on the node's disk.
    public var verified: FragmentAnswer {
        guard case .present(_, _, let bytes, let checksum) = self else { return self }
        return bytes.withUnsafeReadableBytes { CRC32C.checksum($0) } == checksum ? self : .corrupt
    }
}
