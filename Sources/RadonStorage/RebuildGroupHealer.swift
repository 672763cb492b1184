import Logging
import NIOCore
import RadonCodec
import RadonWire

/// One placement group's healing pass: lists the group's fragment files on every member,
/// and for every block reads what each member holds, finds the block's current version (the
/// highest one at least k members hold intact), re-encodes from k fragments only what a
/// target position lacks (missing, older, corrupt) and writes it there with that same version.
///
/// A storage node never lets a slot go back to an older version, so a block rewritten by a
/// client meanwhile is never overwritten with what the healer read. A scrub also reads every
/// fragment's bytes and re-encodes each block to check that its fragments agree.
///
/// Fragments read are checked against the CRC32C they arrived with (damaged on the way, they
/// count as corrupt), and fragments written carry the CRC32C computed right after re-encoding.
struct GroupHealer: Sendable {
    var job: HealingJob
    let group: PlacementGroup
    let volume: VolumeSettings
    let endpoints: [UInt32: NodeEndpoint]
    let code: any ErasureCode
    let pool: WireConnectionPool
    let logger: Logger
    /// Blocks asked of each member per request.
    let batchSize: UInt64 = 32

    var k: Int { Int(volume.k) }
    var n: Int { group.members.count }
    var isScrub: Bool { job.kind == .scrub }
    /// The positions this job may write.
    var targets: Set<Int> { job.targets.isEmpty ? Set(0..<n) : Set(job.targets.map(Int.init)) }

    init(job: HealingJob, group: PlacementGroup, volume: VolumeSettings, endpoints: [UInt32: NodeEndpoint], code: any ErasureCode, pool: WireConnectionPool, logger: Logger) {
        self.job = job
        self.group = group
        self.volume = volume
        self.endpoints = endpoints
        self.code = code
        self.pool = pool
        self.logger = logger
    }

    /// The member at `position`, when it is reachable (not down or lost in the map).
    func member(_ position: Int) -> NodeEndpoint? {
        guard let endpoint = endpoints[group.members[position]], endpoint.state == .up else { return nil }
        return endpoint
    }

    func storage(_ endpoint: NodeEndpoint) async throws -> StorageClient {
        StorageClient(connection: try await pool.connection(to: endpoint.address), timeout: .seconds(20))
    }

    /// Runs the pass; `report(job, finished)` saves progress and answers the rate to keep (bytes
    /// per second, 0 unlimited) or nil when the job was taken away. Returns the job as it ended.
    mutating func run(report: (HealingJob, Bool) async throws -> UInt64?) async throws -> HealingJob {
        var files: [UInt64: UInt64] = [:]
        var listed = 0
        var reachable = Set<Int>()
        for position in 0..<n {
            guard let endpoint = member(position) else { continue }
            do {
                for file in try await storage(endpoint).listFiles(group: group.id) where file.inode > job.cursorInode {
                    files[file.inode] = max(files[file.inode] ?? 0, file.blockCount)
                }
                listed += 1
                reachable.insert(position)
            } catch {
                logger.warning("cannot list a member", metadata: ["group": "\(group.id)", "node": "\(endpoint.id)", "error": "\(error)"])
            }
        }
        // A target that cannot be reached cannot be healed: fail, so what was recorded for it
        // stays queued and the job is tried again once the node is back.
        if let missing = targets.sorted().first(where: { !reachable.contains($0) }) {
            job.state = .failed
            job.message = "target position \(missing) (node \(group.members[missing])) is unreachable"
            _ = try await report(job, true)
            return job
        }
        guard listed >= k else {
            job.state = .failed
            job.message = "only \(listed) of \(n) members could be listed, \(k) needed"
            _ = try await report(job, true)
            return job
        }
        var rate = job.rateLimit
        let started = ContinuousClock.now
        let readAtStart = job.bytesRead
        var lastReport = ContinuousClock.now
        for (inode, blockCount) in files.sorted(by: { $0.key < $1.key }) {
            var first: UInt64 = 0
            while first < blockCount {
                let end = min(blockCount, first + batchSize)
                try await heal(inode: inode, blocks: first..<end)
                first = end
                if rate > 0 {
                    // Throttle: never ahead of `rate` bytes per second since the start.
                    let due = Double(job.bytesRead - readAtStart) / Double(rate)
                    let elapsed = (ContinuousClock.now - started).seconds
                    if due > elapsed { try await Task.sleep(for: .milliseconds(Int((due - elapsed) * 1000))) }
                }
            }
            job.cursorInode = inode
            job.filesDone += 1
            if ContinuousClock.now - lastReport >= .seconds(1) {
                guard let newRate = try await report(job, false) else {
                    job.message = "taken over by another node"
                    return job
                }
                rate = newRate
                lastReport = .now
            }
        }
        job.state = job.unrecoverable > 0 ? .failed : .done
        if job.unrecoverable > 0 { job.message = "\(job.unrecoverable) blocks have fewer than \(k) intact fragments" }
        _ = try await report(job, true)
        return job
    }

    /// What one member answered for a run of blocks (nil: it could not be asked or failed).
    typealias Answers = [Int: [UInt64: StoredFragment]]

    func read(inode: UInt64, blocks: BlockSelection, positions: [Int], includeBytes: Bool) async -> Answers {
        await withTaskGroup(of: (Int, [UInt64: StoredFragment]?).self) { tasks in
            for position in positions {
                guard let endpoint = member(position) else { continue }
                tasks.addTask {
                    do {
                        let results = try await storage(endpoint).readFragments(
                            group: group.id, inode: inode, fragmentIndex: UInt8(position), blocks: blocks, includeBytes: includeBytes)
                        return (position, Dictionary(results.map { ($0.blockIndex, $0.fragment.verified) }, uniquingKeysWith: { a, _ in a }))
                    } catch {
                        return (position, nil)
                    }
                }
            }
            var answers: Answers = [:]
            for await (position, result) in tasks { if let result { answers[position] = result } }
            return answers
        }
    }

    /// Heals blocks `blocks` of `inode`.
    mutating func heal(inode: UInt64, blocks: Range<UInt64>) async throws {
        var answers = await read(inode: inode, blocks: .range(blocks), positions: Array(0..<n), includeBytes: isScrub)
        let headerBytes = UInt64(blocks.count * 32 * answers.count)
        job.bytesRead += isScrub ? answers.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + UInt64(Self.byteCount($1)) } } : headerBytes

        // Per block: the version to hold, the positions that lack it, and which to read.
        struct Plan {
            var version: UInt64
            var effectiveLength: UInt32
            var needs: Set<Int>
            var sources: [Int]
        }
        var plans: [UInt64: Plan] = [:]
        for block in blocks {
            var holders: [UInt64: [Int]] = [:]
            var anything = false
            for (position, result) in answers {
                switch result[block] {
                case let .present(version, _, _, _)?:
                    holders[version, default: []].append(position)
                    anything = true
                case .corrupt?: anything = true
                default: break
                }
            }
            guard anything else { continue }
            job.blocksChecked += 1
            guard let version = holders.filter({ $0.value.count >= k }).keys.max(), let sources = holders[version] else {
                job.unrecoverable += 1
                continue
            }
            var needs = Set<Int>()
            for position in targets where member(position) != nil && answers[position] != nil {
                switch answers[position]?[block] {
                case let .present(held, _, _, _)? where held >= version: break
                default: needs.insert(position)
                }
            }
            guard !needs.isEmpty || isScrub else { continue }
            guard case let .present(_, effectiveLength, _, _)? = answers[sources[0]]?[block] else { continue }
            job.found += UInt64(needs.count)
            // Data positions first: a systematic code then decodes by copying.
            plans[block] = Plan(version: version, effectiveLength: effectiveLength, needs: needs, sources: sources.sorted())
        }
        guard !plans.isEmpty else { return }

        // Fetch the bytes of k sources per block (a scrub already has every byte).
        let healer = self
        if !isScrub {
            var wanted: [Int: [UInt64]] = [:]
            for (block, plan) in plans { for position in plan.sources.prefix(k) { wanted[position, default: []].append(block) } }
            await withTaskGroup(of: (Int, [UInt64: StoredFragment]?).self) { tasks in
                for (position, list) in wanted {
                    tasks.addTask {
                        let got = await healer.read(inode: inode, blocks: .indices(list.sorted()), positions: [position], includeBytes: true)
                        return (position, got[position])
                    }
                }
                for await (position, result) in tasks {
                    guard let result else { continue }
                    answers[position, default: [:]].merge(result) { _, new in new }
                    job.bytesRead += result.values.reduce(0) { $0 + UInt64(Self.byteCount($1)) }
                }
            }
        }

        var writes: [Int: [FragmentSlotWrite]] = [:]
        for (block, var plan) in plans.sorted(by: { $0.key < $1.key }) {
            // `radonfs storage` runs its tasks on the event loops: a block's decode holds a loop
            // (and the client requests on its sockets) for a millisecond or so, never a whole run.
            await Task.yield()
            var fragments: [Int: [UInt8]] = [:]
            for position in plan.sources {
                guard fragments.count < k, case let .present(version, _, bytes, _)? = answers[position]?[block], version == plan.version,
                      bytes.readableBytes == code.fragmentSize(at: position) else { continue }
                fragments[position] = Array(bytes.readableBytesView)
            }
            guard fragments.count == k, let decoded = try? code.decode(fragments), let encoded = try? code.encode(decoded) else {
                job.unrecoverable += 1
                continue
            }
            if isScrub {
                // The fragments not used to decode must match the re-encoded ones.
                for position in plan.sources where fragments[position] == nil {
                    if case let .present(_, _, bytes, _)? = answers[position]?[block], Array(bytes.readableBytesView) != encoded[position] {
                        plan.needs.insert(position)
                        job.found += 1
                    }
                }
            }
            // Each fragment's CRC32C from the bytes just re-encoded, before they go anywhere.
            for position in plan.needs {
                writes[position, default: []].append(FragmentSlotWrite(
                    blockIndex: block, version: plan.version, effectiveLength: plan.effectiveLength, bytes: encoded[position],
                    checksum: CRC32C.checksum(encoded[position])))
            }
        }

        await withTaskGroup(of: UInt64.self) { tasks in
            for (position, slots) in writes {
                guard let endpoint = member(position) else { continue }
                let capacity = UInt32(code.fragmentSize(at: position))
                tasks.addTask {
                    do {
                        let stale = try await healer.storage(endpoint).writeFragments(
                            group: healer.group.id, inode: inode, fragmentIndex: UInt8(position), fragmentCapacity: capacity, slots: slots)
                        return UInt64(slots.count - stale.count)
                    } catch {
                        healer.logger.warning("healing write failed", metadata: ["node": "\(endpoint.id)", "inode": "\(inode)", "error": "\(error)"])
                        return 0
                    }
                }
            }
            for await fixed in tasks { job.fixed += fixed }
        }
        job.bytesWritten += writes.reduce(0) { total, entry in
            total + UInt64(entry.value.count * code.fragmentSize(at: entry.key))
        }
    }

    static func byteCount(_ fragment: StoredFragment) -> Int {
        if case let .present(_, _, bytes, _) = fragment { bytes.readableBytes } else { 0 }
    }
}
