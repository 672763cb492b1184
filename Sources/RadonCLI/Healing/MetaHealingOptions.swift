import ArgumentParser
import Foundation
import RadonMeta
import ServiceLifecycle

/// The healing options of `radonfs meta`.
struct MetaHealingOptions: ParsableArguments {
    @Option(name: .customLong("scrub-every"), help: ArgumentHelp("Seconds between background scrubs of the whole cluster (0: none).", valueName: "seconds"))
    var scrubEvery: Double = MetaHealingOptions.environment("RADONFS_SCRUB_EVERY", 0)

    @Option(name: .customLong("scrub-rate"), help: ArgumentHelp("Read rate of the background scrub per storage node, MB/s.", valueName: "MB/s"))
    var scrubRate: Double = 8

    @Flag(name: .customLong("no-remap-when-down"), help: "Give a node's group positions to spares only once it is lost, not as soon as it is down.")
    var noRemapWhenDown = false

    @Option(name: .customLong("job-lease"), help: ArgumentHelp("Seconds a healing job's worker may stay silent before another node takes it over.", valueName: "seconds"))
    var jobLease: Double = 15

    var settings: HealingSettings {
        HealingSettings(leaseSeconds: jobLease, remapWhenDown: !(noRemapWhenDown || Self.environment("RADONFS_NO_REMAP_WHEN_DOWN", 0) != 0), scrubInterval: max(0, scrubEvery), scrubRate: UInt64(max(0, scrubRate) * 1e6))
    }

    /// A default from the environment, so `radonfs up` (and tests) can shorten timings for every
    /// metadata service they start: RADONFS_DOWN_AFTER, RADONFS_LOST_AFTER, RADONFS_SCRUB_EVERY,
    /// RADONFS_NO_REMAP_WHEN_DOWN (1: as --no-remap-when-down).
    static func environment(_ name: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[name].flatMap(Double.init) ?? fallback
    }
}

/// The healing coordinator's background work (repairs whose nodes are back, periodic scrub),
/// cancelled on graceful shutdown.
struct HealingMaintenanceService: Service {
    let coordinator: HealingCoordinator

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await coordinator.runMaintenance()
        }
    }
}
