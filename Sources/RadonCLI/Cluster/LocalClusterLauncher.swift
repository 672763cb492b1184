import Foundation
import RadonClient
import RadonCodec
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// Starts (or restarts) the processes of a local cluster and waits until it serves.
struct LocalClusterLauncher {
    var directory: String
    var executable: String
    var requestedNodes: Int?
    var layout: CodecLayout
    var codec: String
    var blockSize: Int
    /// nil: do not mount.
    var mountPoint: String?
    var timeout: Duration
    /// `sqlite` or `postgres`; nil: as the cluster was made (sqlite for a new one).
    var metaEngine: String? = nil
    /// How many metadata servers; nil: as the cluster had (2 with postgres, else 1).
    var metaServers: Int? = nil
    /// Plaintext with the shared key instead of mutual TLS (only for a new cluster).
    var insecure = false

    var keyFile: String { "\(directory)/cluster.key" }
    var logDirectory: String { "\(directory)/logs" }

    func start() async throws -> LocalClusterState {
        let previous = FileManager.default.fileExists(atPath: LocalClusterState.path(in: directory))
            ? try LocalClusterState.load(from: directory) : nil
        let nodeCount = requestedNodes ?? previous?.storage.count ?? 6
        // A re-run keeps the volume the cluster was made with.
        let (k, n) = previous.map { ($0.dataFragments, $0.fragments) } ?? (layout.dataCount, layout.fragmentCount)
        guard nodeCount >= n else {
            throw CLIError("layout \(k)+\(n - k) puts each block on \(n) different nodes; --nodes \(nodeCount) is too few")
        }
        // DIR itself only lets others pass (to a mount point and PostgreSQL's data inside it);
        // what it holds is private: state directories 0700, files 0600 (`PrivateState`).
        try PrivateState.makeDirectories(directory, mode: 0o711)
        for path in [logDirectory, "\(directory)/meta", "\(directory)/storage"] {
            try PrivateState.makeDirectory(path)
        }
        if !FileManager.default.fileExists(atPath: keyFile) {
            try ClusterKey.generate().write(to: keyFile)
        }
        // Files an older version left readable by others.
        for name in ["cluster.json", "cluster.key"] { PrivateState.tighten("\(directory)/\(name)") }
        let tlsDirectory = try prepareTLS(previous: previous, nodeCount: nodeCount)

        // The metadata servers first (and the PostgreSQL they elect through): the storage daemons register with them.
        let group = try await startMetaGroup(previous: previous, tlsDirectory: tlsDirectory)
        let meta = group.metas[0]
        let metaMoved = previous.map { $0.metas.map(\.address) != group.metas.map(\.address) } ?? false
        let metaOption = Self.metaOption(group.metas)

        var storage: [LocalClusterState.Daemon] = []
        for index in 0..<nodeCount {
            let old = previous?.storage.indices.contains(index) == true ? previous?.storage[index] : nil
            if let old, metaMoved, BackgroundProcess.isRunning(old.pid) {
                // It reports to a metadata address that no longer exists.
                await BackgroundProcess.stop([old.pid])
            }
            let dataPath = "\(directory)/storage/node-\(index)"
            try PrivateState.makeDirectory(dataPath)
            storage.append(try await startDaemon(
                previous: old, name: "storage-\(index)", dataPath: dataPath,
                arguments: { listen, portFile in
                    // Each local node is its own failure domain, or no group could form on one machine.
                    ["storage", "--dir", dataPath, "--listen", listen, "--meta", metaOption, "--port-file", portFile,
                     "--host-id", "local-node-\(index)"]
                        + WireSecurityOptions.arguments(tlsDirectory: tlsDirectory, identity: "storage-\(index)", keyFile: keyFile)
                }))
        }

        var state = LocalClusterState(
            codec: previous?.codec ?? codec, dataFragments: k, fragments: n, blockSize: previous?.blockSize ?? blockSize,
            keyFile: keyFile, tlsDirectory: tlsDirectory, meta: meta, additionalMetas: group.metas.count > 1 ? Array(group.metas.dropFirst()) : nil,
            storage: storage, mount: previous?.mount, metaEngine: group.engine, postgres: group.postgres)
        try state.save(in: directory)

        try await waitUntilReady(state: state)

        if let mountPoint {
            state.mount = try await startMount(at: mountPoint, previous: previous?.mount, metaAddress: metaOption, state: state)
            try state.save(in: directory)
        }
        return state
    }

    /// Keeps a daemon that still runs; otherwise starts it on its old port (or any free one).
    /// With `servesConsole` (a metadata server) it also waits for the web console's port file.
    func startDaemon(
        previous: LocalClusterState.Daemon?, name: String, dataPath: String, servesConsole: Bool = false,
        arguments: (_ listen: String, _ portFile: String) -> [String]
    ) async throws -> LocalClusterState.Daemon {
        if let previous, BackgroundProcess.isRunning(previous.pid) { return previous }
        let portFile = "\(directory)/\(name).port"
        let metricsFile = "\(directory)/\(name).metrics"
        let consoleFile = "\(directory)/\(name).console"
        let logPath = "\(logDirectory)/\(name).log"
        var listens = ["127.0.0.1:0"]
        if let previous, let address = WireAddress(previous.address), address.port != 0 {
            listens.insert(previous.address, at: 0)
        }
        var lastError: (any Error)?
        for listen in listens {
            unlink(portFile)
            unlink(metricsFile)
            unlink(consoleFile)
            let consoleArguments = servesConsole ? ["--console-port-file", consoleFile] : []
            let pid = try BackgroundProcess.spawn(
                executable, arguments(listen, portFile) + ["--metrics-port-file", metricsFile] + consoleArguments, logPath: logPath)
            do {
                let text = try await BackgroundProcess.waitForFile(portFile, writtenBy: pid, timeout: timeout, logPath: logPath)
                let metrics = MetricsOptions.disabledByEnvironment
                    ? nil : try await BackgroundProcess.waitForFile(metricsFile, writtenBy: pid, timeout: timeout, logPath: logPath)
                let console = servesConsole
                    ? try await BackgroundProcess.waitForFile(consoleFile, writtenBy: pid, timeout: timeout, logPath: logPath) : nil
                return LocalClusterState.Daemon(
                    pid: pid, address: Self.address(fromPortFile: text), dataPath: dataPath, logPath: logPath, portFile: portFile,
                    metricsAddress: metrics, consoleAddress: console)
            } catch {
                // The old port may be taken by now: try a free one.
                lastError = error
                await BackgroundProcess.stop([pid], grace: .seconds(2))
            }
        }
        throw lastError ?? CLIError("cannot start \(name)")
    }

    /// A port file holds `host:port` or just the port.
    static func address(fromPortFile text: String) -> String {
        if let address = WireAddress(text) { return address.description }
        return "127.0.0.1:\(text)"
    }

    /// Waits until every storage node is up in the registry, creates the volume on first start,
    /// and waits until its placement groups exist.
    func waitUntilReady(state: LocalClusterState) async throws {
        let addresses = state.metaAddresses
        guard !addresses.isEmpty else { throw CLIError("bad metadata address \(state.meta.address)") }
        let pool = WireConnectionPool(credentials: try state.credentials(identity: LocalClusterState.adminIdentity))
        defer { Task { await pool.closeAll() } }
        let deadline = ContinuousClock.now + timeout
        var lastProblem = "no answer from the metadata service"
        var volumeCreated = false
        while ContinuousClock.now < deadline {
            for daemon in state.storage + state.metas where !BackgroundProcess.isRunning(daemon.pid) {
                BackgroundProcess.reapIfExited(daemon.pid)
                throw CLIError("process \(daemon.pid) (\(daemon.logPath)) exited:\n\(BackgroundProcess.lastLines(of: daemon.logPath))")
            }
            do {
                // The active one answers; standbys say notActive.
                let (meta, status) = try await Self.activeMeta(among: addresses, pool: pool)
                let up = status.nodes.filter { $0.state == .up }.count
                if up < state.storage.count {
                    lastProblem = "\(up) of \(state.storage.count) storage nodes registered"
                } else if status.volumes.isEmpty {
                    if !volumeCreated {
                        _ = try await meta.createVolume(VolumeSpecification(
                            name: "default", codec: state.codec, k: UInt32(state.dataFragments), n: UInt32(state.fragments),
                            blockSize: UInt32(state.blockSize)))
                        volumeCreated = true
                    }
                    lastProblem = "the volume is being created"
                } else if status.groups.isEmpty {
                    lastProblem = "no placement groups yet"
                } else {
                    // The local mount's certificate sees the whole file system, read-write, as
                    // root; an export the operator changed since is left as it is.
                    if try await !meta.exports().contains(where: { $0.name == LocalClusterState.clientIdentity }) {
                        _ = try await meta.addExport(ExportRule(name: LocalClusterState.clientIdentity, path: "/"))
                    }
                    return
                }
            } catch {
                lastProblem = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("the cluster in \(directory) was not ready within \(timeout): \(lastProblem); logs are in \(logDirectory)")
    }

    /// Starts `radonfs mount` and waits until the mount point is live.
    func startMount(at mountPoint: String, previous: LocalClusterState.Mount?, metaAddress: String, state: LocalClusterState) async throws -> LocalClusterState.Mount? {
        if let previous, previous.mountPoint == mountPoint, BackgroundProcess.isRunning(previous.pid) { return previous }
        // Every user of the mount must reach it: the directories made for it are 0755.
        try PrivateState.makeDirectories(mountPoint, mode: 0o755)
        let logPath = "\(logDirectory)/mount.log"
        let metricsFile = "\(directory)/mount.metrics"
        unlink(metricsFile)
        let pid = try BackgroundProcess.spawn(
            executable, ["mount", "--meta", metaAddress, "-f", "--metrics-port-file", metricsFile, mountPoint]
                + state.securityArguments(identity: LocalClusterState.clientIdentity),
            logPath: logPath)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if Self.isMounted(mountPoint) {
                let metrics = MetricsOptions.disabledByEnvironment
                    ? nil : try? await BackgroundProcess.waitForFile(metricsFile, writtenBy: pid, timeout: .seconds(10), logPath: logPath)
                return LocalClusterState.Mount(pid: pid, mountPoint: mountPoint, logPath: logPath, metricsAddress: metrics)
            }
            BackgroundProcess.reapIfExited(pid)
            guard BackgroundProcess.isRunning(pid) else {
                throw CLIError("the mount exited; see \(logPath):\n\(BackgroundProcess.lastLines(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("\(mountPoint) was not mounted within \(timeout); see \(logPath)")
    }

    /// Whether `/proc/mounts` lists `path` as a mount point.
    static func isMounted(_ path: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return mounts.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 1 && (fields[1] == resolved || fields[1] == path)
        }
    }

    func summary(of state: LocalClusterState) -> String {
        var lines = ["RadonFS cluster in \(directory) is up:"]
        lines.append("  metadata service  pid \(state.meta.pid)  \(state.meta.address)  db \(state.meta.dataPath)")
        for other in state.additionalMetas ?? [] {
            lines.append("  metadata service  pid \(other.pid)  \(other.address)  (active/standby group)")
        }
        if let postgres = state.postgres {
            lines.append("  postgresql        primary 127.0.0.1:\(postgres.primary.port)  \(postgres.primary.dataDirectory)")
            if let standby = postgres.standby {
                lines.append("  postgresql        standby 127.0.0.1:\(standby.port)  \(standby.dataDirectory)")
            }
        }
        for (index, node) in state.storage.enumerated() {
            lines.append("  storage node \(index)    pid \(node.pid)  \(node.address)  data \(node.dataPath)")
        }
        lines.append("  volume            \(state.codec) \(state.dataFragments)+\(state.fragments - state.dataFragments), \(ByteCount.describe(state.blockSize)) blocks")
        if let mount = state.mount {
            lines.append("  mount             pid \(mount.pid)  \(mount.mountPoint)")
        }
        if let tls = state.tlsDirectory {
            lines.append("  mutual TLS        CA and certificates in \(tls)/ (meta, storage-N, client, admin)")
        } else {
            lines.append("  plaintext         --insecure: shared key \(keyFile), nothing encrypted")
        }
        for (name, address) in state.consoleEndpoints {
            lines.append("  web console       \(name) http://\(address)/   (admin: add #token=$(cat \(LocalClusterState.consoleTokenPath(in: directory))))")
        }
        let metrics = state.metricsEndpoints
        if !metrics.isEmpty {
            lines.append("  metrics           " + metrics.map { "\($0.name) http://\($0.address)/metrics" }.joined(separator: "\n                    "))
        }
        lines.append("  logs \(logDirectory)/, state \(LocalClusterState.path(in: directory))")
        lines.append("")
        lines.append("Use it:")
        if let mount = state.mount {
            lines.append("  cp somefile \(mount.mountPoint)/ && ls -l \(mount.mountPoint)")
        }
        lines.append("  radonfs put FILE /FILE --dir \(directory)      radonfs get /FILE COPY --dir \(directory)")
        lines.append("  radonfs ls / --dir \(directory)                radonfs status --dir \(directory)")
        let credentials = state.tlsDirectory.map { "--tls-dir \($0) --identity admin" } ?? "--insecure --key-file \(keyFile)"
        lines.append("  from elsewhere: --meta \(state.metas.map(\.address).joined(separator: ",")) \(credentials)")
        lines.append("Stop it: radonfs down --dir \(directory)   (data stays; `up` again restarts it)")
        return lines.joined(separator: "\n")
    }
}
