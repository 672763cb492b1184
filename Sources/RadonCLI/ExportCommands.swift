import ArgumentParser
import RadonWire

/// `radonfs export add|list|remove`: what each client certificate may mount.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Say what a client certificate may mount: a subtree, read-only or read-write, squashed.",
        discussion: """
            The metadata service judges every request of a client certificate (role client) by \
            the export of its name: it sees only the exported directory and what lies below it \
            (that directory is its mount's root), a read-only export answers EROFS to every change, \
            and root squash makes uid 0 the anonymous user. A client certificate without an export \
            is refused. Operators (role admin) and shared-key (--insecure) peers are not judged. \
            `radonfs up` exports / to its own client certificate, `client`.
            """,
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export PATH to the client certificate NAME (replacing its export, if it had one).",
            discussion: "A change reaches clients already mounted at their next request."
        )

        @OptionGroup var cluster: ClusterLocator

        @Argument(help: "The client certificate's name (`radonfs cert issue --role client NAME`).")
        var name: String

        @Argument(help: "An existing directory, absolute: the client's root.")
        var path: String

        @Flag(name: .customLong("read-only"), help: "Refuse every change (EROFS); the mount is read-only.")
        var readOnly = false

        @Option(name: .long, help: ArgumentHelp("none, root (uid 0 becomes the anonymous user) or all (everyone does).", valueName: "mode"))
        var squash: String = "none"

        @Option(name: .customLong("anon-uid"), help: "The uid a squashed caller acts as.")
        var anonymousUID: UInt32 = ExportRule.nobody

        @Option(name: .customLong("anon-gid"), help: "The gid a squashed caller acts as.")
        var anonymousGID: UInt32 = ExportRule.nobody

        @Option(name: .long, help: ArgumentHelp("The only uids requests may act as, after squashing (EACCES for others).", valueName: "low-high"))
        var uids: String?

        func validate() throws {
            guard squashMode != nil else { throw ValidationError("--squash must be none, root or all") }
            if uids != nil, allowedUIDs == nil { throw ValidationError("--uids must be LOW-HIGH with LOW <= HIGH, e.g. 1000-1999") }
            guard path.hasPrefix("/") else { throw ValidationError("PATH must be absolute (start with /)") }
            guard !name.isEmpty else { throw ValidationError("NAME must not be empty") }
        }

        private var squashMode: ExportSquash? { ExportSquash.allCases.first { $0.description == squash } }

        private var allowedUIDs: ClosedRange<UInt32>? {
            guard let uids else { return nil }
            let bounds = uids.split(separator: "-", omittingEmptySubsequences: false).compactMap { UInt32($0) }
            guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
            return bounds[0]...bounds[1]
        }

        func run() async throws {
            let rule = ExportRule(
                name: name, path: path, readOnly: readOnly, squash: squashMode ?? .none,
                anonymousUID: anonymousUID, anonymousGID: anonymousGID, allowedUIDs: allowedUIDs
            )
            let saved = try await cluster.withMeta { try await $0.addExport(rule) }
            print("exported \(saved.path) to \(saved.name): \(ExportCommand.summary(of: saved))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every export.")

        @OptionGroup var cluster: ClusterLocator

        func run() async throws {
            let exports = try await cluster.withMeta { try await $0.exports() }
            guard !exports.isEmpty else {
                print("no exports: client certificates are refused")
                return
            }
            let width = max(6, exports.map(\.name.count).max() ?? 0)
            print("client".padding(toLength: width, withPad: " ", startingAt: 0) + "  path  access")
            for rule in exports {
                print(rule.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(rule.path)  \(ExportCommand.summary(of: rule))")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove NAME's export: the certificate is refused from its next request on."
        )

        @OptionGroup var cluster: ClusterLocator

        @Argument(help: "The client certificate's name.")
        var name: String

        func run() async throws {
            try await cluster.withMeta { try await $0.removeExport(named: name) }
            print("export of \(name) removed")
        }
    }

    static func summary(of rule: ExportRule) -> String {
        var parts = [rule.readOnly ? "read-only" : "read-write"]
        switch rule.squash {
        case .none: break
        case .root: parts.append("root squashed to \(rule.anonymousUID):\(rule.anonymousGID)")
        case .all: parts.append("all squashed to \(rule.anonymousUID):\(rule.anonymousGID)")
        }
        if let uids = rule.allowedUIDs { parts.append("uids \(uids.lowerBound)-\(uids.upperBound)") }
        return parts.joined(separator: ", ")
    }
}
