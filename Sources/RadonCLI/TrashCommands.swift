import ArgumentParser
import Foundation
import RadonWire

/// `radonfs trash list|restore|purge|retention`: removed files kept for the cluster's retention.
struct TrashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trash",
        abstract: "List, restore or purge removed files the trash keeps, and set how long it keeps them.",
        discussion: """
            A regular file losing its last name (rm, or a rename over it) is kept, whole, for \
            the retention (1 day unless set; 0 turns the trash off): its fragments stay on the \
            storage nodes and count against capacity. Expired files are freed by the metadata \
            service. Directories and symbolic links are not kept, nor the old bytes of a file \
            truncated by open(O_TRUNC). An entry's ID is its inode number. Operators only.
            """,
        subcommands: [List.self, Restore.self, Purge.self, Retention.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the files in the trash, oldest inode first.")

        @OptionGroup var cluster: ClusterLocator

        @Flag(name: .long, help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let entries = try await cluster.withMeta { try await $0.trashList() }
            if json {
                print(try CLIOutput.json(entries.map { Row($0) }))
                return
            }
            guard !entries.isEmpty else {
                print("the trash is empty")
                return
            }
            print("ID".padding(toLength: 12, withPad: " ", startingAt: 0) + "SIZE".padding(toLength: 14, withPad: " ", startingAt: 0)
                + "REMOVED AT".padding(toLength: 22, withPad: " ", startingAt: 0) + "EXPIRES AT".padding(toLength: 22, withPad: " ", startingAt: 0) + "PATH")
            for row in entries.map({ Row($0) }) {
                print("\(row.id)".padding(toLength: 12, withPad: " ", startingAt: 0) + "\(row.size)".padding(toLength: 14, withPad: " ", startingAt: 0)
                    + row.removedAt.padding(toLength: 22, withPad: " ", startingAt: 0) + row.expiresAt.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + row.path)
            }
        }

        /// One entry as `--json` prints it; `path` says when the directory is gone.
        struct Row: Codable {
            var id: UInt64
            var path: String
            var parentGone: Bool
            var size: UInt64
            var removedAt: String
            var expiresAt: String

            init(_ entry: TrashEntry) {
                id = entry.inode
                path = entry.path ?? "(directory \(entry.parent) gone)/\(entry.name)"
                parentGone = entry.path == nil
                size = entry.size
                removedAt = TrashCommand.iso8601(entry.removedAt)
                expiresAt = TrashCommand.iso8601(entry.expiresAt)
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a file back under its original name, or at --to PATH.",
            discussion: "Refused, with the file left in the trash, when the name is taken or its directory is gone."
        )

        @OptionGroup var cluster: ClusterLocator

        @Argument(help: "The entry's ID (`radonfs trash list`).")
        var id: UInt64

        @Option(name: .long, help: ArgumentHelp("Where to put it instead: an absolute path whose directory exists.", valueName: "path"))
        var to: String?

        func validate() throws {
            if let to, !to.hasPrefix("/") { throw ValidationError("--to must be an absolute path (start with /)") }
        }

        func run() async throws {
            let reply = try await cluster.withMeta { try await $0.trashRestore(id, to: to) }
            print("restored \(reply.path) (\(reply.attributes.size) bytes)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Free files in the trash now: the given IDs, or every one with --all.")

        @OptionGroup var cluster: ClusterLocator

        @Flag(name: .long, help: "Purge every file in the trash.")
        var all = false

        @Argument(help: "The entries' IDs (`radonfs trash list`).")
        var ids: [UInt64] = []

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("give IDs or --all, not both and not neither") }
        }

        func run() async throws {
            let reply = try await cluster.withMeta { try await $0.trashPurge(ids, all: all) }
            print("purged \(reply.files) file\(reply.files == 1 ? "" : "s"), \(reply.bytes) bytes")
            if !all, reply.files < ids.count {
                throw CLIError("\(UInt64(ids.count) - reply.files) of the IDs were not in the trash")
            }
        }
    }

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, or set with --set, how long removed files are kept.",
            discussion: "The setting is the cluster's, kept in the metadata database. 0 turns the trash off: files removed from then on go at once, and what the trash held is freed at the next pass."
        )

        @OptionGroup var cluster: ClusterLocator

        @Option(name: .long, help: ArgumentHelp("The new retention: 0, 3600s, 90m, 12h, 1d, 2w.", valueName: "duration"))
        var set: String?

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func validate() throws {
            if let set, RetentionDuration.seconds(parsing: set) == nil {
                throw ValidationError("--set takes a duration such as 0, 3600s, 90m, 12h or 1d, not \"\(set)\"")
            }
        }

        func run() async throws {
            let seconds = set.flatMap(RetentionDuration.seconds(parsing:))
            let summary = try await cluster.withMeta { try await $0.trashSettings(settingRetention: seconds) }
            print(json ? try CLIOutput.json(summary) : TrashCommand.summaryLine(summary))
        }
    }

    /// `Trash: 3 files, 12.0 MiB, kept 1d`: the line `status` shows too.
    static func summaryLine(_ summary: TrashSummary) -> String {
        let size = String(format: "%.1f MiB", Double(summary.bytes) / Double(1 << 20))
        let kept = summary.retentionSeconds == 0 ? "off (removed files go at once)" : "kept \(RetentionDuration.describe(summary.retentionSeconds))"
        return "Trash: \(summary.files) file\(summary.files == 1 ? "" : "s"), \(size) (\(summary.bytes) bytes), \(kept)"
    }

    static func iso8601(_ time: Timestamp) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(time.seconds)))
    }
}
