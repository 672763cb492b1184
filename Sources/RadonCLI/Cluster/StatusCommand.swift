import ArgumentParser
import Foundation
import RadonClient

/// `radonfs status`: what the metadata service knows of the cluster.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cluster's storage nodes, volumes, placement groups, healing, and how many more node losses the data survives.",
        discussion: "Finds the cluster from --dir (a local cluster) or --meta with --key-file. --json prints the same for scripts."
    )

    @OptionGroup var cluster: ClusterLocator

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        let status: ClusterStatus
        do {
            status = try await meta.status()
        } catch {
            throw CLIError("cannot get the status from the metadata service: \(error)")
        }
        // Without the healing jobs (an older service), positions being rebuilt count as there.
        let healing = try? await meta.healingStatus()
        var report = StatusReport(status, healing: healing)
        // What the trash holds (operators only: another certificate's status has no trash line).
        report.trash = try? await meta.trashSettings()
        // A local cluster's daemons wrote where their metrics listen (cluster.json).
        if let dir = cluster.dir, let local = try? LocalClusterState.load(from: dir) {
            report.metrics = Dictionary(local.metricsEndpoints.map { ($0.name, "http://\($0.address)/metrics") }, uniquingKeysWith: { first, _ in first })
            report.consoles = Dictionary(local.consoleEndpoints.map { ($0.name, "http://\($0.address)/") }, uniquingKeysWith: { first, _ in first })
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table)
            if let healing = report.healing { print(healing) }
            if let trash = report.trash { print(TrashCommand.summaryLine(trash)) }
            print(report.protection.lines.joined(separator: "\n"))
            if let consoles = report.consoles, !consoles.isEmpty {
                print("Web console:")
                for (name, url) in consoles.sorted(by: { $0.key < $1.key }) { print("  \(name) \(url)") }
            }
            if let metrics = report.metrics, !metrics.isEmpty {
                print("Metrics:")
                for (name, url) in metrics.sorted(by: { $0.key < $1.key }) { print("  \(name) \(url)") }
            }
        }
    }
}

/// The status as plain Codable values, for `--json` and for the table.
struct StatusReport: Codable {
    struct Node: Codable {
        var id: UInt32
        var address: String
        var pid: Int32
        var state: String
        var stateSinceSeconds: Int64
        var capacityBytes: UInt64
        var freeBytes: UInt64
        var fragmentFiles: UInt64
        var host: String
        var dataDirectory: String
        /// The node's other network paths (`--listen` after the first); empty for one path.
        var extraAddresses: [String] = []
    }

    struct Group: Codable {
        var id: UInt32
        var volume: UInt32
        var index: UInt32
        var epoch: UInt64
        var members: [UInt32]
    }

    struct Volume: Codable {
        var id: UInt32
        var name: String
        var codec: String
        var layout: String
        var blockSize: UInt32
        var inlineThreshold: UInt32
        var groups: UInt32
        var isDefault: Bool
    }

    /// The metadata server that answered, as it advertises itself (nil from one that does not say).
    var metaServer: String?
    var mapEpoch: UInt64
    var inodes: UInt64
    var nodes: [Node]
    var groups: [Group]
    var volumes: [Volume]
    /// What the data survives now and what would restore full protection.
    var protection: ClusterProtection
    /// The healing summary line, when the service answered for its jobs.
    var healing: String?
    /// Prometheus endpoints by daemon name, for a local cluster (`--dir`).
    var metrics: [String: String]?
    /// Web consoles by metadata server name, for a local cluster (`--dir`).
    var consoles: [String: String]?
    /// Removed files the trash keeps (they count against capacity) and for how long.
    var trash: TrashSummary?

    init(_ status: ClusterStatus, healing: HealingStatus?) {
        protection = ClusterProtection(status: status, healing: healing)
        self.healing = healing?.summaryLine
        metaServer = status.metaServer.isEmpty ? nil : status.metaServer
        mapEpoch = status.mapEpoch
        inodes = status.inodeCount
        nodes = status.nodes.map { node in
            Node(id: node.id, address: node.address.description, pid: node.pid, state: node.state.description,
                 stateSinceSeconds: max(0, status.now.seconds - node.since.seconds), capacityBytes: node.capacity,
                 freeBytes: node.free, fragmentFiles: node.fragmentCount, host: node.hostID, dataDirectory: node.dataDirectory,
                 extraAddresses: node.extraAddresses.map(\.description))
        }
        groups = status.groups.map { Group(id: $0.id, volume: $0.volumeID, index: $0.index, epoch: $0.epoch, members: $0.members) }
        volumes = status.volumes.map { volume in
            Volume(id: volume.id, name: volume.name, codec: volume.codec, layout: "\(volume.k)+\(volume.n - volume.k)",
                   blockSize: volume.blockSize, inlineThreshold: volume.inlineThreshold, groups: volume.groupCount, isDefault: volume.isDefault)
        }
    }

    var table: String {
        func gib(_ bytes: UInt64) -> String { String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        var lines = ["Storage nodes (\(nodes.count), map epoch \(mapEpoch)):"]
        lines.append("  " + pad("ID", 5) + pad("ADDRESS", 22) + pad("PID", 9) + pad("STATE", 16) + pad("FREE / CAPACITY", 24) + "FRAGMENT FILES")
        for node in nodes {
            lines.append("  " + pad("\(node.id)", 5) + pad(node.address, 22) + pad("\(node.pid)", 9)
                + pad("\(node.state) \(node.stateSinceSeconds)s", 16) + pad("\(gib(node.freeBytes)) / \(gib(node.capacityBytes))", 24)
                + "\(node.fragmentFiles)")
            if !node.extraAddresses.isEmpty {
                lines.append("  " + pad("", 5) + "also on " + node.extraAddresses.joined(separator: ", "))
            }
        }
        lines.append("Volumes:")
        for volume in volumes {
            lines.append("  \(volume.id) \(volume.name)\(volume.isDefault ? " (default)" : ""): \(volume.codec) \(volume.layout), "
                + "\(volume.blockSize / 1024) KiB blocks, inline up to \(volume.inlineThreshold) B, \(volume.groups) groups")
        }
        lines.append("Placement groups (\(groups.count)):")
        for group in groups.prefix(16) {
            lines.append("  g\(group.id) (volume \(group.volume) #\(group.index), epoch \(group.epoch)): nodes \(group.members.map(String.init).joined(separator: ","))")
        }
        if groups.count > 16 { lines.append("  ... \(groups.count - 16) more (--json lists all)") }
        lines.append("Inodes: \(inodes)")
        if let metaServer { lines.append("Answered by the metadata server at \(metaServer)") }
        return lines.joined(separator: "\n")
    }
}
