import Logging

/// Sends every fragment a write or read could not place to the metadata service's repair
/// queue, where a repair job backfills it once the member is back (issue 5). Logs too, and
/// logs only when the service cannot be reached: the data path never waits on this.
struct MetaRepairReporter: RepairReporter {
    let meta: PooledMetaService
    let logger: Logger

    func fragmentsNeedRepair(_ damage: FragmentDamage) async {
        logger.info("fragments need repair", metadata: ["damage": "\(damage)"])
        do {
            try await meta.client().reportDamage(DamageReport(
                groupID: damage.groupID, inode: damage.inode, blockIndex: damage.blockIndex,
                fragmentIndices: damage.fragmentIndices.map(UInt32.init)))
        } catch {
            logger.warning("cannot record fragments for repair", metadata: ["damage": "\(damage)", "error": "\(error)"])
        }
    }
}
