/// A block as the storage nodes hold it.
public struct StoredBlock: Sendable {
    /// The version it was written with; 0 for a hole (never written).
    public var version: UInt64
    /// The whole block, `blockSize` bytes, zeros past its effective length.
    public var bytes: [UInt8]
    /// The newest version any node showed, decodable or not (a failed overwrite may have left
    /// a newer one than `version` on a few nodes): a rewrite must outrank it, or those nodes
    /// would keep the failed version and refuse the rewrite.
    public var newestVersionSeen: UInt64

    public init(version: UInt64, bytes: [UInt8], newestVersionSeen: UInt64? = nil) {
        self.version = version
        self.bytes = bytes
        self.newestVersionSeen = max(version, newestVersionSeen ?? version)
    }
}
