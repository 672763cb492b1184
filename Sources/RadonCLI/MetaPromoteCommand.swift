import ArgumentParser
import Foundation

/// `radonfs meta promote`: fails the PostgreSQL of a local `--meta-engine postgres` cluster over
/// to its streaming standby.
///
/// The old primary is stopped first (`pg_ctl stop -m immediate`; nothing if it is dead already),
/// so two primaries never run at once; then `pg_ctl promote` on the standby. cluster.json then
/// names the standby as the primary and the old primary as a standby to rebuild, which the next
/// `radonfs up` does (a new base backup from the new primary). The metadata servers need
/// nothing: they connect to whichever of the database's hosts is not in recovery.
struct MetaPromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Fail a local cluster's PostgreSQL over: stop the primary, promote its standby.",
        discussion: """
            The same by hand: `pg_ctl -D DIR/postgres/primary -m immediate stop` (if it still \
            runs), then `pg_ctl -D DIR/postgres/standby promote` (as the postgres user when root), \
            then `ALTER SYSTEM SET synchronous_standby_names = ''` and `SELECT pg_reload_conf()` on \
            it (commits no longer wait for a standby that is not there). \
            Run `radonfs up --dir DIR` afterwards to make the old primary a standby again. \
            On a test bed with two metadata hosts (`radonfs testbed up --metas 2`) give the bed's \
            directory: the primary on meta0 is stopped and the standby on meta1 promoted, each in its \
            host's network namespace (so it works with meta0's link cut too).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The cluster directory given to `radonfs up`.", valueName: "dir"))
    var dir: String

    func run() async throws {
        let directory = URL(fileURLWithPath: dir).standardizedFileURL.path
        var state = try LocalClusterState.load(from: directory)
        guard var postgres = state.postgres else {
            throw CLIError("the cluster in \(directory) keeps its metadata in SQLite; there is no PostgreSQL to fail over")
        }
        guard let standby = postgres.standby, standby.needsRebuild != true else {
            throw CLIError("the cluster in \(directory) has no PostgreSQL standby ready to promote; `radonfs up --dir \(directory)` makes one")
        }
        let local = LocalPostgres(state: postgres, clusterDirectory: directory)
        let started = ContinuousClock.now
        try local.stop(postgres.primary, mode: "immediate")
        try local.promote(standby)
        // It has no standby of its own yet: its commits must not wait for one.
        try local.requireSynchronousStandby(false, on: standby)
        var retired = postgres.primary
        retired.needsRebuild = true
        postgres.primary = standby
        postgres.standby = retired
        state.postgres = postgres
        try state.save(in: directory)
        print("PostgreSQL primary is now \(standby.address):\(standby.port) (\(standby.dataDirectory)), promoted in \(started.duration(to: .now)).")
        if retired.networkNamespace == nil {
            print("The old primary \(retired.address):\(retired.port) is stopped; `radonfs up --dir \(directory)` makes it a standby again.")
        } else {
            // A test bed has no second `up`: it runs on without a standby until it is made anew.
            print("The old primary \(retired.address):\(retired.port) is stopped and stays so: the test bed runs on without a PostgreSQL standby (`radonfs testbed down`, then `up`, makes a new pair).")
        }
    }
}
