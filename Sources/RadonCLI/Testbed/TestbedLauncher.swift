import Foundation
import RadonCodec
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// Brings a test bed up: its network (`TestbedNetwork`), then the metadata servers (one over
/// SQLite, or two over a replicated PostgreSQL: `startMetas`), the storage daemons and a mount per
/// client host, each process in its host's network namespace, listening on and advertising that
/// host's address only (no metrics endpoint or console on a loopback).
///
/// Each storage host runs one storage daemon listening on all of its paths (`--paths`), as the
/// paper's storios per port; the host's name is its failure domain (`--host-id`).
struct TestbedLauncher {
    var directory: String
    var executable: String
    var plan: TestbedPlan
    var rate: String
    var codec: String
    var layout: CodecLayout
    var blockSize: Int
    var timeout: Duration
    /// Prints a line of progress.
    var log: (String) -> Void = { print($0) }

    /// Refused because a bed is up already: the caller must not tear that one down.
    struct AlreadyUp: Error, CustomStringConvertible {
        var description: String
    }

    static let metaPort = 7400
    static let storagePort = 7500

    var logDirectory: String { "\(directory)/logs" }

    /// The launcher of an ordinary local cluster over the same directory: the bed shares its
    /// key, TLS directory, readiness wait and `cluster.json` with `radonfs up`.
    var cluster: LocalClusterLauncher {
        LocalClusterLauncher(
            directory: directory, executable: executable, requestedNodes: plan.storageHosts, layout: layout,
            codec: codec, blockSize: blockSize, mountPoint: nil, timeout: timeout)
    }

    func start() async throws -> TestbedState {
        if FileManager.default.fileExists(atPath: TestbedState.path(in: directory)) {
            throw AlreadyUp(description: "a test bed is up in \(directory) (or was left by a crash): `radonfs testbed down --dir \(directory)` first")
        }
        let leftovers = TestbedNetwork.existingNamespaces() + TestbedNetwork.existingInterfaces().filter { $0 == TestbedPlan.bridge }
        if !leftovers.isEmpty {
            throw AlreadyUp(description: "another test bed is up on this machine (\(leftovers.joined(separator: ", "))): `radonfs testbed down --dir ITS-DIR` first (any DIR cleans leftovers)")
        }
        if plan.hosts(.meta).count > 1 {
            // Before any namespace is made: without the server binaries there is no pair to run.
            _ = try LocalPostgres.findBinDirectory()
        }
        try PrivateState.makeDirectories(directory, mode: 0o711)
        // A new bed is a new cluster: what an earlier bed left in DIR goes.
        for stale in ["storage", "meta", "postgres", "tls", "cluster.json", "cluster.key"] {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(stale)")
        }
        for path in [logDirectory, "\(directory)/meta", "\(directory)/storage"] {
            try PrivateState.makeDirectory(path)
        }
        var state = TestbedState(directory: directory, plan: plan, rate: rate, codec: codec, layout: layout.description)
        try state.save()

        log("network: bridge \(TestbedPlan.bridge) \(TestbedPlan.bridgeAddress)/\(TestbedPlan.prefixLength), \(plan.hosts.count) namespaces, tbf \(rate) both ways on every link")
        try TestbedNetwork.create(plan, rate: rate)

        let cluster = self.cluster
        try ClusterKey.generate().write(to: cluster.keyFile)
        let tlsDirectory = try cluster.prepareTLS(previous: nil, nodeCount: plan.storageHosts)
        let security = { (identity: String) in
            WireSecurityOptions.arguments(tlsDirectory: tlsDirectory, identity: identity, keyFile: cluster.keyFile)
        }

        let (metas, postgres) = try await startMetas(state: &state, security: security)
        // Every server's address: clients and storage daemons follow a takeover to the standby.
        let metaOption = LocalClusterLauncher.metaOption(metas)

        var storage: [LocalClusterState.Daemon] = []
        for host in plan.hosts(.storage) {
            // One daemon per host, listening on every path of it: the client spreads its
            // fragment requests over them and rides through the loss of one.
            let number = storage.count
            let dataPath = "\(directory)/storage/\(host.name)"
            try PrivateState.makeDirectory(dataPath)
            let addresses = host.addresses.map { "\($0):\(Self.storagePort)" }
            storage.append(try await startDaemon(
                on: host, kind: "storage", name: "storage-\(number)", addresses: addresses, state: &state,
                arguments: ["storage", "--dir", dataPath, "--meta", metaOption, "--host-id", host.name] + security("storage-\(number)"),
                dataPath: dataPath))
            log("storage  \(host.name)  \(addresses.joined(separator: " "))")
        }

        let clusterState = LocalClusterState(
            codec: codec, dataFragments: layout.dataCount, fragments: layout.fragmentCount, blockSize: blockSize,
            keyFile: cluster.keyFile, tlsDirectory: tlsDirectory, meta: metas[0], additionalMetas: Array(metas.dropFirst()),
            storage: storage, mount: nil, metaEngine: postgres == nil ? "sqlite" : "postgres", postgres: postgres)
        try clusterState.save(in: directory)
        try await cluster.waitUntilReady(state: clusterState)

        for host in plan.hosts(.client) {
            let mount = try await startMount(on: host, metaAddress: metaOption, state: &state, arguments: security(LocalClusterState.clientIdentity))
            log("client   \(host.name)  \(host.addresses.joined(separator: " "))  mount \(mount.mountPoint ?? "")")
        }
        return state
    }

    /// Starts one daemon in `host`'s namespace listening on `addresses` and waits for its port
    /// file (which names the first).
    func startDaemon(
        on host: TestbedPlan.Host, kind: String, name: String, addresses: [String], state: inout TestbedState,
        arguments: [String], dataPath: String? = nil
    ) async throws -> LocalClusterState.Daemon {
        let portFile = "\(directory)/\(name).port"
        let logPath = "\(logDirectory)/\(name).log"
        unlink(portFile)
        let command = TestbedNetwork.command(in: host, [executable] + arguments + addresses.flatMap { ["--listen", $0] } + ["--port-file", portFile, "--no-metrics"])
        let pid = try BackgroundProcess.spawn(command[0], Array(command.dropFirst()), logPath: logPath)
        state.processes.append(TestbedState.Process(kind: kind, host: host.name, pid: pid, address: addresses[0], logPath: logPath))
        try state.save()
        let written = try await BackgroundProcess.waitForFile(portFile, writtenBy: pid, timeout: timeout, logPath: logPath)
        return LocalClusterState.Daemon(
            pid: pid, address: LocalClusterLauncher.address(fromPortFile: written), dataPath: dataPath ?? "",
            logPath: logPath, portFile: portFile)
    }

    /// Mounts the file system at DIR/mnt/HOST from `host`'s namespace and waits until it is live.
    private func startMount(
        on host: TestbedPlan.Host, metaAddress: String, state: inout TestbedState, arguments: [String]
    ) async throws -> TestbedState.Process {
        let mountPoint = "\(directory)/mnt/\(host.name)"
        try PrivateState.makeDirectories(mountPoint, mode: 0o755)
        let logPath = "\(logDirectory)/mount-\(host.name).log"
        let command = TestbedNetwork.command(in: host, [executable, "mount", "--meta", metaAddress, "-f", "--no-metrics", mountPoint] + arguments)
        let pid = try BackgroundProcess.spawn(command[0], Array(command.dropFirst()), logPath: logPath)
        let mount = TestbedState.Process(kind: "mount", host: host.name, pid: pid, address: nil, logPath: logPath, mountPoint: mountPoint)
        state.processes.append(mount)
        try state.save()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if LocalClusterLauncher.isMounted(mountPoint) { return mount }
            BackgroundProcess.reapIfExited(pid)
            guard BackgroundProcess.isRunning(pid) else {
                throw CLIError("the mount of \(host.name) exited; see \(logPath):\n\(BackgroundProcess.lastLines(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("\(mountPoint) was not mounted within \(timeout); see \(logPath)")
    }
}
