extension BlockStore {
    /// `answer` from fragment `fragmentIndex` on `member`, checked against the checksum it came
    /// with: a mismatch (the node checked the bytes, so they were damaged after that, on the
    /// way or in this process) is logged and becomes `.corrupt`, so the read works around it
    /// and repairs it as it does rot on the node's disk. Never wrong bytes to the decoder.
    func verified(_ answer: FragmentAnswer, from member: NodeEndpoint, layout: FileLayout, fragmentIndex: Int, block: UInt64) -> FragmentAnswer {
        let checked = answer.verified
        if case .present = answer, case .corrupt = checked {
            logger.warning("fragment failed its checksum on arrival", metadata: [
                "node": "\(member.id)", "address": "\(member.address)", "inode": "\(layout.inode)", "block": "\(block)",
                "fragment": "\(fragmentIndex)",
            ])
        }
        return checked
    }

    /// Reports fragments a read found corrupt (rot on the node, or damaged on the way here)
    /// to the repair queue, besides the rewrite the read does itself: corruption hints at a
    /// failing disk or link, and the report outlives this process should the rewrite not
    /// happen or fail.
    func reportCorrupt(_ fragmentIndices: [Int], of index: UInt64, layout: FileLayout, version: UInt64) async {
        guard !fragmentIndices.isEmpty else { return }
        await repairs.fragmentsNeedRepair(FragmentDamage(
            inode: layout.inode, groupID: layout.group.id, blockIndex: index, version: version,
            fragmentIndices: fragmentIndices, reason: "corrupt on read (failed a CRC32C check on the node or on arrival)"))
    }
}
