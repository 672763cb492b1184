/// What one storage node said about one fragment slot of one block.
public enum FragmentAnswer: Sendable {
    /// The slot holds a fragment that passed its CRC check.
    case present(version: UInt64, effectiveLength: Int, bytes: [UInt8])
    /// The node has no such slot (never written, or truncated away).
    case missing
    /// The slot exists but its CRC (or header) is wrong: the data rotted or a write was torn.
    case corrupt
    /// The node did not answer usefully: down, timed out, or an error.
    case failed(String)
}
