extension BlockStore {
    /// Makes the writes `deferredSyncs` lists durable: each fragment file is fsync'd on its
    /// node (`FragmentTransport.sync`), all at once. Forgets what it synced either way (a loss
    /// is reported once).
    ///
    /// A fragment file counts as lost when its node cannot sync it, answers under another host
    /// boot than its writes were (a reboot took its page cache), is known hung (`hungNodes`:
    /// not asked), or is the last one silent once all the others have answered and
    /// `stragglerGrace` has passed, as a write gives up on a straggler (a stopped node would
    /// otherwise hold the flush for the transport's timeout; it is marked hung).
    /// Lost fragments are reported for repair; the call throws only if a block kept fewer than
    /// k fragments, i.e. its data may be gone.
    func syncDeferred(_ deferredSyncs: DeferredSyncs) async throws {
        let (files, blocks) = deferredSyncs.takeAll()
        guard !files.isEmpty else { return }
        let lost = await syncAll(files)
        guard !lost.isEmpty else { return }
        var lossesPerBlock: [UInt64: [(file: DeferredSyncs.FragmentFile, reason: String)]] = [:]
        for (file, reason) in lost {
            for block in files[file]?.blocks ?? [] { lossesPerBlock[block, default: []].append((file, reason)) }
        }
        let inode = lost.first!.key.inode
        var undecodable: [String] = []
        for (block, losses) in lossesPerBlock.sorted(by: { $0.key < $1.key }) {
            guard let written = blocks[block] else { continue }
            let reasons = losses.map(\.reason).joined(separator: "; ")
            await repairs.fragmentsNeedRepair(FragmentDamage(
                inode: inode, groupID: losses[0].file.group, blockIndex: block, version: written.version,
                fragmentIndices: losses.map(\.file.fragmentIndex).sorted(), reason: "unsynced write lost: \(reasons)"))
            if written.acknowledged - losses.count < written.needed {
                undecodable.append("block \(block) (\(reasons))")
            }
        }
        guard undecodable.isEmpty else {
            throw FileSystemError.io("inode \(inode): too few fragments made durable: " + undecodable.joined(separator: ", "))
        }
    }

    /// Syncs every file at once and returns those lost, with why (see `syncDeferred`).
    private func syncAll(_ files: [DeferredSyncs.FragmentFile: DeferredSyncs.Unsynced]) async -> [DeferredSyncs.FragmentFile: String] {
        enum Event: Sendable {
            case answered(DeferredSyncs.FragmentFile, problem: String?)
            case graceOver
        }
        let started = ContinuousClock.now
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        var lost: [DeferredSyncs.FragmentFile: String] = [:]
        var asked = 0
        for (file, unsynced) in files {
            if hungNodes.isHung(file.address) {
                lost[file] = "node \(file.address) did not answer recent writes"
                continue
            }
            asked += 1
            // Unstructured: a node that never answers is left behind, not waited for.
            Task { [transport] in
                do {
                    let boot = try await transport.sync(at: file.address, group: file.group, inode: file.inode, fragmentIndex: file.fragmentIndex)
                    sink.yield(.answered(file, problem: unsynced.boots == [boot] ? nil : "node \(file.address) restarted its host before the sync"))
                } catch {
                    sink.yield(.answered(file, problem: "sync on node \(file.address) failed: \(FileSystemError(describing: error))"))
                }
            }
        }
        var answered: Set<DeferredSyncs.FragmentFile> = []
        if asked == 0 { sink.finish() }
        var graceTimer: Task<Void, Never>?
        defer { graceTimer?.cancel() }
        waiting: for await event in events {
            switch event {
            case let .answered(file, problem):
                answered.insert(file)
                if let problem { lost[file] = problem }
                if answered.count == asked { break waiting }
                if graceTimer == nil, answered.count == asked - 1 {
                    let grace = Self.stragglerGrace(after: .now - started)
                    graceTimer = Task {
                        try? await Task.sleep(for: grace)
                        sink.yield(.graceOver)
                    }
                }
            case .graceOver:
                break waiting
            }
        }
        for file in files.keys where lost[file] == nil && !answered.contains(file) {
            hungNodes.markHung(file.address)
            lost[file] = "node \(file.address) did not answer its sync within \(ContinuousClock.now - started)"
        }
        sink.finish()
        return lost
    }
}
