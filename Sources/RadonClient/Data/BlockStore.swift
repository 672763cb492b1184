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
    /// Nodes recently given up on by a write (see `writeFragments`): writes skip them, reads ask
    /// them last.
    let hungNodes = HungNodes()
    /// Nodes a read recently hedged around (silent past `hedgeDelay` while others answered):
    /// reads ask them last, writes still try them. Apart from `hungNodes` because a write
    /// skipping nodes on a read's word could fall below the nodes it needs (a node slow to
    /// read, or several read at once, is not one that cannot take a write).
    let silentReadNodes = HungNodes()

    /// Whether reads should ask the node at `address` last.
    func isSuspectForReads(_ address: WireAddress) -> Bool {
        hungNodes.isHung(address) || silentReadNodes.isHung(address)
    }
    /// The transport's partial reads, if it has them (looked up once, not on every read).
    let rangeTransport: (any FragmentRangeTransport)?

    init(transport: any FragmentTransport, clock: VersionClock, repairs: any RepairReporter, logger: Logger, hedgeDelay: Duration = .seconds(2)) {
        self.transport = transport
        self.rangeTransport = transport as? any FragmentRangeTransport
        self.clock = clock
        self.repairs = repairs
        self.logger = logger
        self.hedgeDelay = hedgeDelay
    }

    // MARK: Writing

    /// Writes block `index` (`bytes` is the whole block) with a version newer than `floor`, and
    /// returns that version. With `deferredSyncs`, nodes may leave the fsync of fragments that
    /// replace no version to `syncDeferred`, and the writes they deferred are listed there.
    @discardableResult
    func writeBlock(
        layout: FileLayout, index: UInt64, bytes: [UInt8], effectiveLength: Int, after floor: UInt64, deferredSyncs: DeferredSyncs? = nil
    ) async throws -> UInt64 {
        let layout = await membership.current(layout)
        let code = try codecs.code(for: layout.volume)
        let fragments: [ChecksummedFragment]
        do {
            fragments = try code.encodeWithChecksums(bytes)
        } catch {
            throw FileSystemError.io("encoding block \(index) of inode \(layout.inode): \(error)")
        }
        let version = clock.next(after: floor)
        try await writeFragments(fragments, indices: Array(fragments.indices), layout: layout, index: index,
                                 version: version, effectiveLength: effectiveLength, code: code, required: durableCount(layout),
                                 keepPrevious: true, deferredSyncs: deferredSyncs)
        return version
    }

    func durableCount(_ layout: FileLayout) -> Int {
        min(Int(layout.volume.n), Int(layout.volume.k) + 1)
    }

    /// How long a write waits for the last nodes once `required` made it durable: long
    /// enough for a busy node, far shorter than the transport timeout a hung one costs.
    static func stragglerGrace(after elapsed: Duration) -> Duration {
        min(.seconds(10), max(.seconds(1), elapsed * 3))
    }

    /// Sends `fragments[i]` to member `indices[i]`; throws unless at least `required` succeed.
    /// Each goes with the checksum computed when it was encoded; a node that got bytes not
    /// matching it refuses them (`.corrupt`), which counts as a failure of that node.
    ///
    /// With `keepPrevious` (a client's overwrite) each node keeps the version it replaces
    /// until the write is durable on `required` nodes, then is told to drop it: a write that
    /// fails leaves the old version readable (see `readBlock`). Once `required` nodes have the
    /// block, nodes that have not answered within `stragglerGrace` are given up on and
    /// reported for repair, like nodes that failed.
    ///
    /// With `deferredSyncs`, "durable" above means in the nodes' page cache for the fragments
    /// whose fsync they deferred (`FragmentTransport.write`): proof against a killed process,
    /// not yet against a crashed host, until `syncDeferred`.
    func writeFragments(
        _ fragments: [ChecksummedFragment], indices: [Int], layout: FileLayout, index: UInt64, version: UInt64,
        effectiveLength: Int, code: any ErasureCode, required: Int, keepPrevious: Bool = false, deferredSyncs: DeferredSyncs? = nil
    ) async throws {
        // Too few members up to acknowledge: fail before touching any slot, so a write that
        // cannot succeed does not overwrite good fragments of the block's current version.
        let upCount = indices.filter { layout.members[$0].state == .up }.count
        guard upCount >= required else {
            throw FileSystemError.io("block \(index) of inode \(layout.inode): only \(upCount) of \(indices.count) storage nodes of group \(layout.group.id) are up, \(required) needed")
        }
        let started = ContinuousClock.now
        let round = FragmentWriteRound()
        for (position, fragmentIndex) in indices.enumerated() {
            let member = layout.members[fragmentIndex]
            let fragment = fragments[position]
            Task { [transport, hungNodes] in
                var answer = FragmentWriteRound.Answer(fragmentIndex: fragmentIndex, failure: nil, keptPrevious: false, deferredUnderBoot: nil)
                if member.state != .up {
                    answer.failure = .io("node \(member.id) is \(member.state)")
                } else if hungNodes.isHung(member.address) {
                    // Writes to it would pile up waiting for the transport timeout: skip it
                    // (reported for repair) until it has not been tried for a while.
                    answer.failure = .io("node \(member.id) did not answer recent writes")
                } else {
                    do {
                        let receipt = try await transport.write(
                            to: member.address, group: layout.group.id, inode: layout.inode, fragmentIndex: fragmentIndex,
                            fragmentCapacity: code.fragmentSize(at: fragmentIndex),
                            blockIndex: index, version: version, effectiveLength: effectiveLength, bytes: fragment.bytes,
                            checksum: fragment.checksum, keepPrevious: keepPrevious, deferSync: deferredSyncs != nil)
                        answer.keptPrevious = receipt.keptPrevious
                        answer.deferredUnderBoot = receipt.deferredUnderBoot
                        hungNodes.markAnswered(member.address)
                    } catch {
                        answer.failure = FileSystemError(describing: error)
                    }
                }
                // Late (the write was acknowledged without this node): it is durable now, so
                // the version it replaced may go.
                if !round.record(answer), answer.keptPrevious {
                    await self.dropPrevious(on: [fragmentIndex], layout: layout, index: index, version: version)
                }
            }
        }
        var graceEnd: ContinuousClock.Instant?
        while true {
            let answers = round.answers
            if answers.count == indices.count { break }
            if graceEnd == nil, answers.count(where: { $0.failure == nil }) >= required {
                let silent = indices.filter { index in !answers.contains { $0.fragmentIndex == index } }
                let onlyHungNodes = silent.allSatisfy { hungNodes.isHung(layout.members[$0].address) }
                graceEnd = .now + (onlyHungNodes ? .zero : Self.stragglerGrace(after: .now - started))
            }
            if let graceEnd, ContinuousClock.now >= graceEnd { break }
            await round.waitForAnswer(beyond: answers.count, until: graceEnd)
        }
        let answers = round.stopListening()
        var failures: [Int: FileSystemError] = [:]
        for answer in answers { if let failure = answer.failure { failures[answer.fragmentIndex] = failure } }
        for fragmentIndex in indices where !answers.contains(where: { $0.fragmentIndex == fragmentIndex }) {
            hungNodes.markHung(layout.members[fragmentIndex].address)
            failures[fragmentIndex] = .io("node \(layout.members[fragmentIndex].id) did not answer within \(ContinuousClock.now - started)")
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
        if let deferredSyncs {
            let deferred = answers.compactMap { answer -> (DeferredSyncs.FragmentFile, boot: UInt64)? in
                guard answer.failure == nil, let boot = answer.deferredUnderBoot else { return nil }
                let file = DeferredSyncs.FragmentFile(address: layout.members[answer.fragmentIndex].address, group: layout.group.id,
                                                      inode: layout.inode, fragmentIndex: answer.fragmentIndex)
                return (file, boot)
            }
            deferredSyncs.record(block: index, version: version, acknowledged: written, needed: Int(layout.volume.k), deferred: deferred)
        }
        // Durable: the versions this write replaced are no longer needed anywhere.
        await dropPrevious(on: answers.filter { $0.keptPrevious && $0.failure == nil }.map(\.fragmentIndex),
                           layout: layout, index: index, version: version)
    }

    /// Tells the nodes at `fragmentIndices` to drop the versions of block `index` older than
    /// `version`. A failure only leaves an old copy behind until the next overwrite: logged.
    func dropPrevious(on fragmentIndices: [Int], layout: FileLayout, index: UInt64, version: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            for fragmentIndex in fragmentIndices {
                let member = layout.members[fragmentIndex]
                group.addTask { [transport, logger] in
                    do {
                        try await transport.dropPrevious(at: member.address, group: layout.group.id, inode: layout.inode,
                                                         fragmentIndex: fragmentIndex, blockIndex: index, version: version)
                    } catch {
                        logger.debug("dropping a previous version failed", metadata: ["node": "\(member.id)", "error": "\(error)"])
                    }
                }
            }
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
