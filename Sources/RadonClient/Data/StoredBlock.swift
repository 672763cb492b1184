/// A block as the storage nodes hold it.
public struct StoredBlock: Sendable {
    /// The version it was written with; 0 for a hole (never written).
    public var version: UInt64
    /// The whole block, `blockSize` bytes, zeros past its effective length.
    public var bytes: [UInt8]
}
