import Logging
import RadonCodec

/// Reads and writes whole blocks of files on the storage nodes of their placement group.
///
/// A write encodes the block into n fragments and sends fragment j to member j of the group, all
/// at once; it succeeds when `min(n, k+1)` nodes have it on disk (fsync'd), and whatever could
/// not be written is reported for repair. A read asks the data fragments first (for systematic
/// codes they are the block itself), falls back to the other nodes on any error, silence or
/// doubt, decides with `BlockVote`, and rewrites fragments it found missing, stale or corrupt.
public final class BlockStore: Sendable {
    let transport: any FragmentTransport
    let clock: VersionClock
    let codecs = CodecCache()
    let repairs: any RepairReporter
    let logger: Logger
    /// How long the first k nodes get before the others are asked too.
    let hedgeDelay: Duration
    /// The newest members of each group (issue 5: open files follow map changes).
    let membership = GroupMembership()

    init(transport: any FragmentTransport, clock: VersionClock, repairs: any RepairReporter, logger: Logger, hedgeDelay: Duration = .seconds(2)) {
        self.transport = transport
        self.clock = clock
        self.repairs = repairs
        self.logger = logger
        self.hedgeDelay = hedgeDelay
    }

    // MARK: Writing

    /// Writes block `index` (`bytes` is the whole block) with a version newer than `floor`.
    func writeBlock(layout: FileLayout, index: UInt64, bytes: [UInt8], effectiveLength: Int, after floor: UInt64) async throws {
        let layout = await membership.current(layout)
        let code = try codecs.code(for: layout.volume)
        let fragments: [[UInt8]]
        do {
            fragments = try code.encode(bytes)
        } catch {
            throw FileSystemError.io("encoding block \(index) of inode \(layout.inode): \(error)")
        }
        let version = clock.next(after: floor)
        try await writeFragments(fragments, indices: Array(fragments.indices), layout: layout, index: index,
                                 version: version, effectiveLength: effectiveLength, code: code, required: durableCount(layout))
    }

    func durableCount(_ layout: FileLayout) -> Int {
        min(Int(layout.volume.n), Int(layout.volume.k) + 1)
    }

    /// Sends `fragments[i]` to member `indices[i]`; throws unless at least `required` succeed.
    func writeFragments(
        _ fragments: [[UInt8]], indices: [Int], layout: FileLayout, index: UInt64, version: UInt64,
        effectiveLength: Int, code: any ErasureCode, required: Int
    ) async throws {
        // Too few members up to acknowledge: fail before touching any slot, so a write that
        // cannot succeed does not overwrite good fragments of the block's current version.
        let upCount = indices.filter { layout.members[$0].state == .up }.count
        guard upCount >= required else {
            throw FileSystemError.io("block \(index) of inode \(layout.inode): only \(upCount) of \(indices.count) storage nodes of group \(layout.group.id) are up, \(required) needed")
        }
        var failures = await withTaskGroup(of: (Int, FileSystemError?).self) { group in
            for (position, fragmentIndex) in indices.enumerated() {
                let member = layout.members[fragmentIndex]
                let fragment = fragments[position]
                group.addTask { [transport] in
                    guard member.state == .up else { return (fragmentIndex, .io("node \(member.id) is \(member.state)")) }
                    do {
                        try await transport.write(
                            to: member.address, group: layout.group.id, inode: layout.inode, fragmentIndex: fragmentIndex,
                            fragmentCapacity: code.fragmentSize(at: fragmentIndex),
                            blockIndex: index, version: version, effectiveLength: effectiveLength, bytes: fragment)
                        return (fragmentIndex, nil)
                    } catch {
                        return (fragmentIndex, FileSystemError(describing: error))
                    }
                }
            }
            var failures: [Int: FileSystemError] = [:]
            for await (fragmentIndex, failure) in group {
                if let failure { failures[fragmentIndex] = failure }
            }
            return failures
        }
        failures = await retryOnNewMembers(failures, fragments: fragments, indices: indices, layout: layout, index: index,
                                           version: version, effectiveLength: effectiveLength, code: code)
        let written = indices.count - failures.count
        if !failures.isEmpty {
            let reasons = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            await repairs.fragmentsNeedRepair(FragmentDamage(
                inode: layout.inode, groupID: layout.group.id, blockIndex: index, version: version,
                fragmentIndices: failures.keys.sorted(), reason: written >= required ? "write missed: \(reasons)" : "write failed: \(reasons)"))
        }
        guard written >= required else {
            let noSpace = failures.values.contains { $0.errno == FileSystemError.noSpace().errno }
            let message = "block \(index) of inode \(layout.inode) reached \(written) of \(indices.count) storage nodes, \(required) needed: "
                + failures.sorted { $0.key < $1.key }.map { "fragment \($0.key): \($0.value.message.isEmpty ? "\($0.value)" : $0.value.message)" }.joined(separator: "; ")
            throw noSpace ? FileSystemError.noSpace(message) : FileSystemError.io(message)
        }
    }

    // MARK: Removing

    /// Drops every block from `blockCount` on, on every member (the file was truncated).
    func truncate(layout: FileLayout, keepingBlocks blockCount: UInt64) async throws {
        try await everyMember(layout.members, required: durableCount(layout), action: "truncate") { [transport] member, fragmentIndex in
            try await transport.truncate(at: member.address, group: layout.group.id, inode: layout.inode,
                                         fragmentIndex: fragmentIndex, blockCount: blockCount)
        }
    }

    /// Deletes every fragment of a removed file.
    func delete(inode: UInt64, groupID: UInt32, members: [NodeEndpoint]) async throws {
        try await everyMember(members, required: members.count, action: "delete inode \(inode)") { [transport] member, fragmentIndex in
            try await transport.delete(at: member.address, group: groupID, inode: inode, fragmentIndex: fragmentIndex)
        }
    }

    /// Runs `body` on every member; fails (after all ran) unless `required` of them succeeded.
    private func everyMember(_ members: [NodeEndpoint], required: Int, action: String, _ body: @escaping @Sendable (NodeEndpoint, Int) async throws -> Void) async throws {
        let failures = await withTaskGroup(of: String?.self) { group in
            for (fragmentIndex, member) in members.enumerated() {
                group.addTask {
                    do {
                        try await body(member, fragmentIndex)
                        return nil
                    } catch {
                        return "node \(member.id) (\(member.address)): \(error)"
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        if !failures.isEmpty {
            logger.warning("\(action) failed on some nodes", metadata: ["failures": "\(failures.joined(separator: "; "))"])
        }
        if members.count - failures.count < required {
            throw FileSystemError.io("\(action) failed on \(failures.joined(separator: "; "))")
        }
    }
}

extension FileSystemError {
    /// Any error of the layers below, as the errno a POSIX caller sees.
    init(describing error: any Error) {
        switch error {
        case let error as FileSystemError: self = error
        case let error as WireError: self.init(error)
        default: self = .io("\(error)")
        }
    }
}
