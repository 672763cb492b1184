import Logging

/// Where the data path reports fragments that need repair: a write that could not reach every
/// node of the group, or a read that had to work around a missing, stale or rotten fragment it
/// could not rewrite itself.
///
/// The client core logs them today; the metadata service's repair queue (issue 5) plugs in here
/// so the rebuild can backfill exactly what was missed.
public protocol RepairReporter: Sendable {
    func fragmentsNeedRepair(_ damage: FragmentDamage) async
}

/// One block's fragments that are missing or wrong on some nodes.
public struct FragmentDamage: Sendable, Hashable, CustomStringConvertible {
    public var inode: UInt64
    public var groupID: UInt32
    public var blockIndex: UInt64
    /// The version the damaged fragments should hold.
    public var version: UInt64
    /// Fragment indices (positions in the group) that lack it.
    public var fragmentIndices: [Int]
    public var reason: String

    public var description: String {
        "inode \(inode) block \(blockIndex) v\(version) group \(groupID): fragments \(fragmentIndices) \(reason)"
    }
}

/// Logs every report as a warning; the default until the service keeps a repair queue.
public struct LoggingRepairReporter: RepairReporter {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func fragmentsNeedRepair(_ damage: FragmentDamage) async {
        logger.warning("fragments need repair", metadata: ["damage": "\(damage)"])
    }
}
