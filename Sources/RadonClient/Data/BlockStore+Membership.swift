import RadonCodec

extension BlockStore {
    /// After a write missed some members: re-reads the group's members and, where a failed
    /// position has moved to another node that is up (the service put a spare in a down node's
    /// place), sends that fragment there. Returns the failures that remain.
    func retryOnNewMembers(
        _ failures: [Int: FileSystemError], fragments: [ChecksummedFragment], indices: [Int], layout: FileLayout, index: UInt64,
        version: UInt64, effectiveLength: Int, code: any ErasureCode
    ) async -> [Int: FileSystemError] {
        guard !failures.isEmpty else { return failures }
        let fresh = await membership.current(layout, force: true)
        guard fresh.members.count == layout.members.count else { return failures }
        let moved = failures.keys.filter { fresh.members[$0].id != layout.members[$0].id && fresh.members[$0].state == .up }
        guard !moved.isEmpty else { return failures }
        var remaining = failures
        await withTaskGroup(of: (Int, Bool).self) { group in
            for fragmentIndex in moved {
                guard let position = indices.firstIndex(of: fragmentIndex) else { continue }
                let (member, fragment) = (fresh.members[fragmentIndex], fragments[position])
                group.addTask { [transport] in
                    do {
                        try await transport.write(
                            to: member.address, group: fresh.group.id, inode: fresh.inode, fragmentIndex: fragmentIndex,
                            fragmentCapacity: code.fragmentSize(at: fragmentIndex),
                            blockIndex: index, version: version, effectiveLength: effectiveLength, bytes: fragment.bytes,
                            checksum: fragment.checksum, keepPrevious: false, deferSync: false)
                        return (fragmentIndex, true)
                    } catch {
                        return (fragmentIndex, false)
                    }
                }
            }
            for await (fragmentIndex, written) in group where written { remaining[fragmentIndex] = nil }
        }
        return remaining
    }
}
