import ArgumentParser
import Foundation
import RadonClient

/// `radonfs node add|replace|remove`: change which nodes carry the placement groups.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Bring a storage node into service, replace one, or take one out.",
        subcommands: [Add.self, Replace.self, Remove.self]
    )

    struct Options: ParsableArguments {
        @OptionGroup var cluster: ClusterLocator

        @Option(name: .long, help: ArgumentHelp("Read rate limit of the rebuild per storage node, MB/s (0: unlimited).", valueName: "MB/s"))
        var rate: Double = 0

        @Flag(name: .long, help: "Show the rebuild's progress until it is done.")
        var watch = false

        func send(_ request: NodeCommandRequest, describing what: String) async throws {
            let (meta, pool) = try await cluster.connectMeta()
            defer { Task { await pool.closeAll() } }
            var request = request
            request.rateLimit = UInt64(max(0, rate) * 1e6)
            let status = try await meta.nodeCommand(request)
            let moved = status.jobs.filter { $0.runID == status.runID }.count
            print("\(what): \(moved) group positions move; they are rebuilt in the background (`radonfs rebuild --watch-only`)")
            if watch { try await RebuildCommand.watch(meta, select: \.repairJobs) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move group positions onto a node that registered (started with `radonfs storage`), until it carries its share.",
            discussion: "With a local cluster: `radonfs up --dir DIR --nodes N+1` starts the new daemon; `radonfs status` shows its id.")
        @Argument(help: "The node id (see `radonfs status`).") var node: UInt32
        @OptionGroup var options: Options
        func run() async throws {
            try await options.send(NodeCommandRequest(action: .add, nodeID: node), describing: "node \(node) added")
        }
    }

    struct Replace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move every group position of a node onto another node (--with) or onto the best spares.")
        @Argument(help: "The node id to replace.") var node: UInt32
        @Option(name: .customLong("with"), help: "The node id to take its place (default: the best spare per group).") var replacement: UInt32?
        @OptionGroup var options: Options
        func run() async throws {
            try await options.send(NodeCommandRequest(action: .replace, nodeID: node, replacementID: replacement ?? 0),
                                   describing: "node \(node) replaced")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move every group position of a node onto spares; the node then carries nothing and may be stopped.",
            discussion: "If it keeps running, it deletes its fragments of the groups that moved once the rebuild is done and RADONFS_STALE_GRACE seconds (default 60) have passed.")
        @Argument(help: "The node id to remove.") var node: UInt32
        @OptionGroup var options: Options
        func run() async throws {
            try await options.send(NodeCommandRequest(action: .remove, nodeID: node), describing: "node \(node) removed")
        }
    }
}
