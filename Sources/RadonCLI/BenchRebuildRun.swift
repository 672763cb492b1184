import Foundation
import Logging
import RadonClient
import RadonCodec
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// One cluster size of `radonfs bench rebuild`: start it, fill it, time a `node remove`
/// rebuild alone, then foreground I/O quiet and during a second rebuild; always stop it.
struct BenchRebuildRun {
    var nodes: Int
    var directory: String
    var dataBytes: Int
    var fileSize: Int
    var blockSize: Int
    var foregroundBytes: Int
    var rateLimit: UInt64
    var progress: (String) -> Void

    var layout: CodecLayout { try! CodecLayout(k: 4, n: 6) }
    var fileCount: Int { max(1, dataBytes / fileSize) }

    func measure() async throws -> BenchRebuildReport.ClusterResult {
        let launcher = LocalClusterLauncher(
            directory: directory, executable: BackgroundProcess.currentExecutable(), requestedNodes: nodes, layout: layout,
            codec: CodecKind.mojetteSystematic.rawValue, blockSize: blockSize, mountPoint: nil, timeout: .seconds(120))
        progress("\(nodes) nodes: starting the cluster in \(directory)")
        let state: LocalClusterState
        do {
            state = try await launcher.start()
        } catch {
            // A start that failed half-way has recorded no pids: stop what runs from our directory.
            _ = await BackgroundProcess.stop(Self.processes(using: directory), grace: .seconds(5))
            throw error
        }
        var spares: [LocalClusterState.Daemon] = []
        do {
            let result = try await measure(launcher: launcher, state: state, spares: &spares)
            await stop(state, spares)
            return result
        } catch {
            await stop(state, spares)
            throw error
        }
    }

    /// Our daemons of a cluster in `directory`: processes whose command line names a path in it.
    static func processes(using directory: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains { $0.hasPrefix(directory + "/") } ? pid : nil
        }
    }

    private func stop(_ state: LocalClusterState, _ spares: [LocalClusterState.Daemon]) async {
        _ = await BackgroundProcess.stop(state.allPids + spares.map(\.pid), grace: .seconds(10))
        for pid in state.allPids + spares.map(\.pid) { BackgroundProcess.reapIfExited(pid) }
    }

    private func measure(
        launcher: LocalClusterLauncher, state: LocalClusterState, spares: inout [LocalClusterState.Daemon]
    ) async throws -> BenchRebuildReport.ClusterResult {
        let key = try state.credentials(identity: LocalClusterState.adminIdentity)
        guard let metaAddress = state.metaAddress else { throw CLIError("bad metadata address \(state.meta.address)") }
        let pool = WireConnectionPool(credentials: key)
        defer { Task { await pool.closeAll() } }
        let meta = MetaClient(connection: try await pool.connection(to: metaAddress), timeout: .seconds(30))

        progress("\(nodes) nodes: writing \(ByteCount.describe(fileCount * fileSize)) in \(fileCount) files")
        let writeStarted = ContinuousClock.now
        try await withClient(metaAddress, key) { client in try await writeDataSet(client) }
        let writeSeconds = (ContinuousClock.now - writeStarted).seconds

        // 1. The rebuild alone.
        if nodes - 1 < layout.fragmentCount {
            spares.append(try await startSpare(launcher: launcher, state: state, index: spares.count, meta: meta))
        }
        let firstRemoved = try await nodeID(of: state.storage[0], meta: meta)
        try BenchFSSystem.dropCaches(syncing: directory)
        progress("\(nodes) nodes: node remove \(firstRemoved)")
        let daemons = state.storage.map(\.pid) + spares.map(\.pid) + [state.meta.pid]
        let cpuBefore = BenchRebuildCPU.sample(daemons)
        var alone = try await rebuild(removing: firstRemoved, meta: meta)
        var labels = [state.meta.pid: "meta"]
        for (index, daemon) in state.storage.enumerated() { labels[daemon.pid] = "storage-\(index)" }
        for (index, daemon) in spares.enumerated() { labels[daemon.pid] = "spare-\(index)" }
        alone.cpu = BenchRebuildCPU.sample(daemons).usage(since: cpuBefore, rebuiltBytes: alone.bytesWritten, labels: labels)
        progress(String(format: "\(nodes) nodes: rebuilt %.1f MB in %.2f s = %.1f MB/s by %d workers over %d groups; machine CPU %.0f%% busy, busiest daemons (CPU s) %@",
                        Double(alone.bytesWritten) / 1e6, alone.seconds, alone.writtenMBps, alone.workers, alone.groups,
                        (alone.cpu?.machineBusy ?? 0) * 100, (alone.cpu?.busiestDaemons ?? []).joined(separator: ", ") as NSString))

        // 2. Foreground I/O, quiet, then during a second rebuild. The removed node is stopped
        // first, or it (carrying nothing) would take every position of the second removal.
        _ = await BackgroundProcess.stop([state.storage[0].pid])
        try await waitUntil("node \(firstRemoved) to be down", meta: meta) { nodes in
            nodes.first { $0.id == firstRemoved }?.state != .up
        }
        let files = (0..<fileCount).map { "data-\($0)" }
        let readCount = max(1, foregroundBytes / fileSize)
        try BenchFSSystem.dropCaches(syncing: directory)
        let quiet = try await withClient(metaAddress, key) { client in
            try await foregroundLoad(client, writing: "fg-quiet", reading: Array(files.prefix(readCount)))
        }
        if nodes - 2 < layout.fragmentCount {
            spares.append(try await startSpare(launcher: launcher, state: state, index: spares.count, meta: meta))
        }
        let secondRemoved = try await nodeID(of: state.storage[1], meta: meta)
        try BenchFSSystem.dropCaches(syncing: directory)
        progress("\(nodes) nodes: node remove \(secondRemoved) with foreground I/O")
        let started = ContinuousClock.now
        let status = try await meta.nodeCommand(NodeCommandRequest(action: .remove, nodeID: secondRemoved, rateLimit: rateLimit))
        let busy = try await withClient(metaAddress, key) { client in
            try await foregroundLoad(client, writing: "fg-busy", reading: Array(files.dropFirst(readCount).prefix(readCount)))
        }
        let foregroundEnded = ContinuousClock.now
        let during = try await waitForRun(status.runID, started: started, meta: meta)
        let overlap = min(1, during.seconds / max((foregroundEnded - started).seconds, 1e-9))
        progress(String(format: "\(nodes) nodes: foreground write %.1f -> %.1f MB/s, read %.1f -> %.1f MB/s (rebuild ran %.0f%% of it)",
                        quiet.writeMBps, busy.writeMBps, quiet.readMBps, busy.readMBps, overlap * 100))

        return BenchRebuildReport.ClusterResult(
            nodes: nodes, spares: spares.count, dataSetBytes: fileCount * fileSize,
            dataSetWriteMBps: Double(fileCount * fileSize) / 1e6 / writeSeconds, rebuild: alone,
            foregroundQuiet: quiet, foregroundDuringRebuild: busy, rebuildDuringForeground: during,
            rebuildCoveredForeground: overlap)
    }

    /// `node remove`, then waits for every job it queued.
    private func rebuild(removing node: UInt32, meta: MetaClient) async throws -> BenchRebuildReport.Rebuild {
        let started = ContinuousClock.now
        let status = try await meta.nodeCommand(NodeCommandRequest(action: .remove, nodeID: node, rateLimit: rateLimit))
        return try await waitForRun(status.runID, started: started, meta: meta)
    }

    private func waitForRun(_ run: UInt64, started: ContinuousClock.Instant, meta: MetaClient) async throws -> BenchRebuildReport.Rebuild {
        let deadline = ContinuousClock.now + .seconds(3600)
        while ContinuousClock.now < deadline {
            let jobs = try await meta.healingStatus().jobs.filter { $0.runID == run }
            if !jobs.isEmpty, jobs.allSatisfy(\.state.isFinished) {
                let seconds = (ContinuousClock.now - started).seconds
                let failed = jobs.filter { $0.state != .done }
                if let first = failed.first { throw CLIError("\(failed.count) rebuild jobs failed, e.g. \(first.message)") }
                let written = jobs.reduce(0) { $0 + $1.bytesWritten }
                let read = jobs.reduce(0) { $0 + $1.bytesRead }
                return BenchRebuildReport.Rebuild(
                    seconds: seconds, bytesWritten: written, bytesRead: read, groups: jobs.count,
                    workers: Set(jobs.map(\.workerNodeID)).count,
                    writtenMBps: Double(written) / 1e6 / seconds, readMBps: Double(read) / 1e6 / seconds)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("the rebuild of run \(run) did not finish within an hour")
    }

    /// An empty storage daemon that can take removed positions (a 4+2 group on 6 nodes has no spare).
    private func startSpare(launcher: LocalClusterLauncher, state: LocalClusterState, index: Int, meta: MetaClient) async throws -> LocalClusterState.Daemon {
        let dataPath = "\(directory)/storage/spare-\(index)"
        try FileManager.default.createDirectory(atPath: dataPath, withIntermediateDirectories: true)
        let name = "spare-\(index)"
        try launcher.issueIfMissing(name: name, role: .storage, tlsDirectory: state.tlsDirectory)
        let daemon = try await launcher.startDaemon(previous: nil, name: name, dataPath: dataPath) { listen, portFile in
            ["storage", "--dir", dataPath, "--listen", listen, "--meta", state.meta.address,
             "--port-file", portFile, "--host-id", "local-spare-\(index)"] + state.securityArguments(identity: name)
        }
        let id = try await waitForNode(dataPath, meta: meta)
        progress("\(nodes) nodes: spare node \(id) started")
        return daemon
    }

    private func nodeID(of daemon: LocalClusterState.Daemon, meta: MetaClient) async throws -> UInt32 {
        try await waitForNode(daemon.dataPath, meta: meta)
    }

    private func waitForNode(_ dataPath: String, meta: MetaClient) async throws -> UInt32 {
        var found: UInt32?
        try await waitUntil("the node of \(dataPath) to be up", meta: meta) { nodes in
            found = nodes.first { $0.dataDirectory == dataPath && $0.state == .up }?.id
            return found != nil
        }
        return found!
    }

    private func waitUntil(_ what: String, meta: MetaClient, _ condition: ([NodeInfo]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if condition(try await meta.nodes()) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("timed out waiting for \(what)")
    }

    private func withClient<Result>(_ meta: WireAddress, _ credentials: WireCredentials, _ body: (RadonFileSystemClient) async throws -> Result) async throws -> Result {
        var logger = Logger(label: "bench.rebuild")
        logger.logLevel = .error
        let client = try await RadonFileSystemClient.connect(meta: meta, credentials: credentials, logger: logger)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// `fileCount` files of `fileSize` bytes, four at a time.
    private func writeDataSet(_ client: RadonFileSystemClient) async throws {
        let chunk = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let (fileCount, fileSize) = (self.fileCount, self.fileSize)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for lane in 0..<4 {
                tasks.addTask {
                    for index in stride(from: lane, to: fileCount, by: 4) {
                        try await Self.write(client, name: "data-\(index)", size: fileSize, chunk: chunk, salt: UInt8(index & 0xff))
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }

    /// One file of `foregroundBytes` written, then `reading` read through: each timed.
    private func foregroundLoad(_ client: RadonFileSystemClient, writing name: String, reading: [String]) async throws -> BenchRebuildReport.Foreground {
        let chunk = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 40_503 >> 3) }
        let writeStarted = ContinuousClock.now
        try await Self.write(client, name: name, size: foregroundBytes, chunk: chunk, salt: 0x5a)
        let writeSeconds = (ContinuousClock.now - writeStarted).seconds
        let readStarted = ContinuousClock.now
        var read = 0
        for file in reading {
            let attributes = try await client.lookup(parent: 1, name: FileName(file), context: .root)
            let handle = try await client.open(attributes.inode, flags: OpenFlags(read: true, write: false), context: .root)
            var offset: UInt64 = 0
            while true {
                let bytes = try await client.read(handle, offset: offset, count: 1 << 20)
                if bytes.isEmpty { break }
                offset += UInt64(bytes.count)
            }
            try await client.release(handle)
            read += Int(offset)
        }
        let readSeconds = (ContinuousClock.now - readStarted).seconds
        return BenchRebuildReport.Foreground(
            writeBytes: foregroundBytes, writeSeconds: writeSeconds, writeMBps: Double(foregroundBytes) / 1e6 / writeSeconds,
            readBytes: read, readSeconds: readSeconds, readMBps: Double(read) / 1e6 / readSeconds)
    }

    private static func write(_ client: RadonFileSystemClient, name: String, size: Int, chunk: [UInt8], salt: UInt8) async throws {
        let handle = try await client.create(
            parent: 1, name: FileName(name), permissions: 0o644, flags: OpenFlags(read: false, write: true, truncate: true),
            exclusive: false, context: .root).handle
        var offset = 0
        var bytes = chunk
        while offset < size {
            let count = min(bytes.count, size - offset)
            bytes[0] = salt
            bytes[1] = UInt8(truncatingIfNeeded: offset >> 20)
            _ = try await client.write(handle, offset: UInt64(offset), bytes: Array(bytes.prefix(count)))
            offset += count
        }
        try await client.release(handle)
    }
}
