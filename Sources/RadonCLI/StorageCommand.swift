import ArgumentParser
import Foundation
import Logging
import RadonStorage
import RadonWire
import ServiceLifecycle

/// `radonfs storage`: the storage daemon.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Run a storage daemon: keeps erasure-coded fragments in a local directory and serves them.",
        discussion: """
            Fragments live in DIR as g<group>/<inode>.<fragment>, one fixed-size slot per block, \
            each slot carrying its block version, effective length and the CRC32C its writer \
            computed; a write whose bytes do not match that CRC is refused, a write is \
            acknowledged only after fsync, a slot that fails its CRC is reported corrupt and never \
            served. Every connection must prove the cluster key (--key-file). The daemon registers \
            with the metadata service (--meta) and reports capacity and free space every \
            --heartbeat seconds. SIGTERM or SIGINT stops it cleanly.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The data directory; created if missing. One daemon per directory.", valueName: "dir"))
    var dir: String

    @Option(name: .long, help: ArgumentHelp(
        "Where to listen, host:port (port 0 picks a free one; see --port-file). Repeat it, or give a comma-separated list, for several network paths: clients spread fragment traffic over them and keep going when one dies.",
        valueName: "host:port[,host:port...]"))
    var listen: [String] = []

    @Option(name: .long, help: ArgumentHelp("The metadata service to register with, or every metadata server, comma-separated; without it the daemon runs unregistered.", valueName: "host:port[,host:port...]"))
    var meta: String?

    @OptionGroup(title: "Security") var security: WireSecurityOptions

    @Option(name: .customLong("host-id"), help: ArgumentHelp("The failure domain: no two fragments of a block go to one host id. Defaults to the host name.", valueName: "name"))
    var hostID: String?

    @Option(name: .customLong("advertise-host"), help: ArgumentHelp("The host name or IP clients should use for the first --listen address, when it differs from the listen host.", valueName: "host"))
    var advertiseHost: String?

    @Option(name: .long, help: ArgumentHelp(
        "The address clients should use for each --listen address, in the same order (repeatable or comma-separated; port 0 means the bound port). Defaults to the bound addresses.",
        valueName: "host:port[,host:port...]"))
    var advertise: [String] = []

    @Option(name: .long, help: ArgumentHelp("Seconds between heartbeats to the metadata service.", valueName: "seconds"))
    var heartbeat: Double = 2

    @Option(name: .customLong("port-file"), help: ArgumentHelp("Write host:port here once listening (for launchers using port 0).", valueName: "path"))
    var portFile: String?

    @OptionGroup var metrics: MetricsOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard security.isGiven else { throw ValidationError("give --tls-dir and --identity (mutual TLS), or --insecure --key-file") }
        guard let listen = Self.addresses(listen) else { throw ValidationError("--listen must be host:port[,host:port...], got \"\(self.listen.joined(separator: ","))\"") }
        guard let advertised = Self.addresses(advertise) else { throw ValidationError("--advertise must be host:port[,host:port...], got \"\(advertise.joined(separator: ","))\"") }
        guard advertised.count <= max(listen.count, 1) else {
            throw ValidationError("\(advertised.count) --advertise addresses for \(max(listen.count, 1)) --listen addresses: give at most one per --listen, in its order")
        }
        guard advertiseHost == nil || advertised.isEmpty else { throw ValidationError("give --advertise or --advertise-host, not both") }
        if let meta, WireAddress.list(meta) == nil { throw ValidationError("--meta must be host:port[,host:port...], got \"\(meta)\"") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        guard heartbeat > 0, heartbeat <= 60 else { throw ValidationError("--heartbeat must be in (0, 60] seconds") }
    }

    static let defaultListen = WireAddress(host: "127.0.0.1", port: 7500)

    /// The addresses of a repeatable option whose values may also be comma-separated lists; nil
    /// when any is not host:port.
    static func addresses(_ values: [String]) -> [WireAddress]? {
        var addresses: [WireAddress] = []
        for value in values {
            guard let list = WireAddress.list(value) else { return nil }
            addresses += list
        }
        return addresses
    }

    func run() async throws {
        PrivateState.restrictNewFiles()
        let credentials = try security.credentials()
        let listenAddresses = Self.addresses(listen)!
        let configuration = StorageDaemon.Configuration(
            directory: dir, listen: listenAddresses.first ?? Self.defaultListen, credentials: credentials, metaAddresses: meta.flatMap(WireAddress.list) ?? [],
            hostID: hostID, advertisedHost: advertiseHost, extraListen: Array(listenAddresses.dropFirst()), advertised: Self.addresses(advertise)!,
            heartbeatInterval: .milliseconds(Int(heartbeat * 1000))
        )
        try await DaemonRuntime.run(name: "storage", logLevel: try DaemonRuntime.logLevel(logLevel), metrics: metrics) { logger in
            let daemon: StorageDaemon
            do {
                daemon = try await StorageDaemon.start(configuration, logger: logger)
            } catch {
                throw CLIError("cannot start the storage daemon on \(dir): \(error)")
            }
            let portFileServices: [any Service] = portFile.map { [PortFileService(path: $0, address: daemon.address.description)] } ?? []
            return [StorageDaemonService(daemon: daemon, logger: logger)] + portFileServices
        }
    }
}

/// The storage daemon as a lifecycle service: serves until graceful shutdown, then stops
/// heartbeats, closes its listener and lets disk I/O in flight finish.
struct StorageDaemonService: Service {
    let daemon: StorageDaemon
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.notice("stopping the storage daemon")
        await daemon.stop()
    }
}
