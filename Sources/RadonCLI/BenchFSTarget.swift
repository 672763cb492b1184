import Foundation

/// One file system the benchmark measures: something that can be brought up, gives a directory
/// to run the jobs in, and is torn down afterwards whatever happened in between.
protocol BenchFSTarget: AnyObject {
    /// The short name used in `--targets` and in the JSON report: `radonfs`, `glusterfs`, `local`.
    var key: String { get }
    /// The column header in the table, e.g. `RadonFS 4+2`.
    var title: String { get }
    /// Starts whatever serves the file system; returns the directory the jobs run in.
    func setUp() async throws -> String
    /// Mounts the file system `count` more times after `setUp`, each mount a client of its own
    /// (a process of its own where the target has one), for the concurrent writers; returns
    /// their directories. `tearDown` unmounts them.
    func addMounts(_ count: Int) async throws -> [String]
    /// Stops everything `setUp` started (daemons, mounts, volumes). Must be safe after a failed
    /// or partial `setUp`, and must not throw: a teardown does all it can.
    func tearDown() async
    /// The directory holding all the target's data, removed once every target is measured:
    /// deleting GlusterFS's brick trees (a hundred thousand directories, each rmdir a discard
    /// on this disk) takes minutes of disk time that must not overlap another target's jobs.
    var dataDirectory: String { get }
    /// The process worth profiling while the jobs run (the FUSE daemon), if there is one.
    var profiledProcess: pid_t? { get }
    /// Every process that serves the file system now (daemons and FUSE client), whose CPU time
    /// is counted per GiB of the sequential jobs; empty where nothing but the kernel serves.
    func servingProcesses() -> [pid_t]
}

extension BenchFSTarget {
    var profiledProcess: pid_t? { nil }
    func servingProcesses() -> [pid_t] { [] }
}
