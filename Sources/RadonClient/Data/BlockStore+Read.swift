import RadonCodec

extension BlockStore {
    /// Reads block `index`: the right bytes, zeros for a hole, or an EIO error; never bytes of a
    /// version that a newer acknowledged write replaced.
    func readBlock(layout: FileLayout, index: UInt64) async throws -> StoredBlock {
        // A block caught in the middle of another client's overwrite shows two versions, neither
        // with k fragments yet; a moment later the write has landed (or failed): ask again.
        var attempt = 0
        while true {
            do {
                return try await readBlockOnce(layout: layout, index: index)
            } catch let error as MixedVersionsError where attempt < 2 {
                attempt += 1
                logger.debug("block caught mid-write, reading again", metadata: ["block": "\(index)", "reason": "\(error.reason)"])
                try await Task.sleep(for: .milliseconds(100))
            } catch let error as MixedVersionsError {
                throw FileSystemError.io("block \(index) of inode \(layout.inode) is unreadable: \(error.reason)")
            }
        }
    }

    private struct MixedVersionsError: Error {
        var reason: String
    }

    private func readBlockOnce(layout: FileLayout, index: UInt64) async throws -> StoredBlock {
        let layout = await membership.current(layout)
        let code = try codecs.code(for: layout.volume)
        let n = Int(layout.volume.n)
        let k = Int(layout.volume.k)
        guard layout.members.count == n else {
            throw FileSystemError.io("group \(layout.group.id) has \(layout.members.count) members, the volume needs \(n)")
        }
        // Data fragments first (systematic codes need no decoding then), nodes known down or
        // hung last.
        let isUp = (0..<n).map { layout.members[$0].state == .up && !isSuspectForReads(layout.members[$0].address) }
        let order = (0..<n).sorted { lhs, rhs in
            let (lhsUp, rhsUp) = (isUp[lhs], isUp[rhs])
            return lhsUp != rhsUp ? lhsUp : lhs < rhs
        }
        var vote = BlockVote(fragmentCount: n, requiredCount: k)
        // The nodes still silent when the hedge fired and the block was decided without them.
        var silentPastHedge: [Int] = []
        var verdict = await withTaskGroup(of: (Int, FragmentAnswer)?.self) { group -> BlockVote.Verdict in
            var asked = 0
            var outstanding = 0
            var answered = Set<Int>()
            var hedged = false
            func ask(upTo count: Int) {
                while asked < min(count, n) {
                    let fragmentIndex = order[asked]
                    let member = layout.members[fragmentIndex]
                    asked += 1
                    outstanding += 1
                    group.addTask { [transport] in
                        let answer = await transport.read(from: member.address, group: layout.group.id, inode: layout.inode,
                                                          fragmentIndex: fragmentIndex, blockIndex: index)
                        return (fragmentIndex, self.verified(answer, from: member, layout: layout, fragmentIndex: fragmentIndex, block: index))
                    }
                }
            }
            ask(upTo: k)
            let hedge = hedgeDelay
            group.addTask {
                try? await Task.sleep(for: hedge)
                return nil
            }
            while let result = await group.next() {
                guard let (fragmentIndex, answer) = result else {
                    // The first nodes are slow: ask everyone left.
                    hedged = true
                    ask(upTo: n)
                    continue
                }
                outstanding -= 1
                answered.insert(fragmentIndex)
                if case .failed = answer {} else { silentReadNodes.markAnswered(layout.members[fragmentIndex].address) }
                vote.record(answer, forFragment: fragmentIndex)
                switch vote.verdict() {
                case .needMoreAnswers:
                    if case .present = answer, outstanding > 0 { continue }
                    ask(upTo: n)
                case let decided:
                    if hedged { silentPastHedge = order.prefix(asked).filter { !answered.contains($0) } }
                    group.cancelAll()
                    return decided
                }
            }
            return vote.verdict()
        }
        // A node that let a whole hedge delay pass while others answered is remembered: the
        // next blocks ask it last instead of each waiting the hedge delay again, so a storage
        // host whose link died costs a reader one hedge, not one per block. It is asked first
        // again once it answers a read or `HungNodes.memory` has passed. Writes do not skip it
        // on this account (see `silentReadNodes`).
        for fragmentIndex in silentPastHedge { silentReadNodes.markHung(layout.members[fragmentIndex].address) }
        switch verdict {
        case .decode, .hole: break
        case .needMoreAnswers, .unreadable: verdict = await withPreviousVersions(&vote, layout: layout, index: index)
        }
        switch verdict {
        case .hole:
            return StoredBlock(version: 0, bytes: [UInt8](repeating: 0, count: code.blockSize))
        case .unreadable(let reason):
            let everyNodeAnswered = !vote.answers.values.contains { if case .failed = $0 { true } else { false } }
            if everyNodeAnswered { throw MixedVersionsError(reason: reason) }
            throw FileSystemError.io("block \(index) of inode \(layout.inode) is unreadable: \(reason)")
        case .needMoreAnswers:
            throw FileSystemError.io("block \(index) of inode \(layout.inode) is unreadable: not enough nodes answered")
        case .decode(let version, let effectiveLength, let fragments):
            var bytes: [UInt8]
            do {
                bytes = try code.decodeBlock(from: fragments)
            } catch {
                throw FileSystemError.io("decoding block \(index) of inode \(layout.inode): \(error)")
            }
            if effectiveLength < bytes.count {
                bytes.replaceSubrange(effectiveLength..<bytes.count, with: repeatElement(0, count: bytes.count - effectiveLength))
            }
            let stale = vote.staleFragments(comparedTo: version)
            if !stale.isEmpty {
                let (block, corrupt) = (bytes, vote.corruptFragments)
                Task {
                    await self.reportCorrupt(corrupt, of: index, layout: layout, version: version)
                    await self.repair(stale, of: index, layout: layout, version: version, effectiveLength: effectiveLength, block: block)
                }
            }
            return StoredBlock(version: version, bytes: bytes, newestVersionSeen: vote.newestVersionSeen)
        }
    }

    /// The current versions cannot be decoded: asks every node that holds something for the
    /// previous version it kept (an overwrite that failed, or is still on its way, keeps the
    /// version it replaced until it is durable) and votes again with those counted too.
    private func withPreviousVersions(_ vote: inout BlockVote, layout: FileLayout, index: UInt64) async -> BlockVote.Verdict {
        let holders = vote.answers.compactMap { fragmentIndex, answer -> Int? in
            switch answer {
            case .present, .corrupt: fragmentIndex
            case .missing, .failed: nil
            }
        }
        guard !holders.isEmpty else { return vote.verdict() }
        let previous = await withTaskGroup(of: (Int, FragmentAnswer).self) { group in
            for fragmentIndex in holders {
                let member = layout.members[fragmentIndex]
                group.addTask { [transport] in
                    let answer = await transport.readPrevious(from: member.address, group: layout.group.id, inode: layout.inode,
                                                              fragmentIndex: fragmentIndex, blockIndex: index)
                    return (fragmentIndex, self.verified(answer, from: member, layout: layout, fragmentIndex: fragmentIndex, block: index))
                }
            }
            var answers: [(Int, FragmentAnswer)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        for (fragmentIndex, answer) in previous { vote.recordPrevious(answer, forFragment: fragmentIndex) }
        let verdict = vote.verdict()
        if case .decode(let version, _, _) = verdict {
            logger.info("block read from the previous version of an unconfirmed overwrite",
                        metadata: ["inode": "\(layout.inode)", "block": "\(index)", "version": "\(version)"])
        }
        return verdict
    }

    /// Rewrites fragments a read found missing, stale or corrupt, with the version it decoded
    /// (re-encoded from the decoded block, each checksummed as it is encoded).
    func repair(_ fragmentIndices: [Int], of index: UInt64, layout: FileLayout, version: UInt64, effectiveLength: Int, block: [UInt8]) async {
        do {
            let code = try codecs.code(for: layout.volume)
            let all = try code.encodeWithChecksums(block)
            logger.info("repairing fragments", metadata: ["inode": "\(layout.inode)", "block": "\(index)", "fragments": "\(fragmentIndices)"])
            try await writeFragments(fragmentIndices.map { all[$0] }, indices: fragmentIndices, layout: layout, index: index,
                                     version: version, effectiveLength: effectiveLength, code: code, required: fragmentIndices.count)
        } catch {
            logger.warning("repair after read failed", metadata: ["inode": "\(layout.inode)", "block": "\(index)", "error": "\(error)"])
        }
    }
}
