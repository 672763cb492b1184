import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// What the failover tests (and the storm test built on them) need of an active/standby cluster
/// (`up --meta-engine postgres`): which metadata server is active, the lease row, and failovers
/// of each kind with the time each took.
extension LocalCluster {
    /// `up` arguments of an active/standby cluster: a local PostgreSQL primary and standby, and
    /// `servers` metadata servers electing through it.
    public static func activeStandbyArguments(servers: Int = 2) -> [String] {
        ["--meta-engine", "postgres", "--meta-servers", "\(servers)"]
    }

    /// How one metadata server answers a status request.
    public enum MetaRole: Equatable, Sendable {
        case active
        case standby
        case unreachable
    }

    /// Asks metadata server `index` (position in `State.metas`) for the cluster status; a server
    /// that does not answer within 2 s (stopped, or still starting) is unreachable.
    public func role(ofMeta index: Int) async throws -> MetaRole {
        let state = try state()
        return await withTaskGroup(of: MetaRole.self) { group in
            group.addTask { (try? await Self.askRole(of: state.metas[index].address, credentials: try state.credentials())) ?? .unreachable }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return .unreachable
            }
            defer { group.cancelAll() }
            return await group.next() ?? .unreachable
        }
    }

    static func askRole(of metaAddress: String, credentials: WireCredentials) async throws -> MetaRole {
        guard let address = WireAddress(metaAddress) else { throw TestFailure("bad address") }
        let pool = WireConnectionPool(credentials: credentials)
        defer { Task { await pool.closeAll() } }
        do {
            var client = MetaClient(connection: try await pool.connection(to: address))
            client.timeout = .seconds(2)
            _ = try await client.status()
            return .active
        } catch let error as WireError where error.status == .notActive {
            return .standby
        } catch {
            return .unreachable
        }
    }

    /// The index of the one active metadata server, waiting up to `timeout` for there to be one;
    /// fails if two answer as active.
    public func activeMeta(timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var active: [Int] = []
            for index in try state().metas.indices {
                if try await role(ofMeta: index) == .active { active.append(index) }
            }
            if active.count > 1 { throw TestFailure("metadata servers \(active) all answer as active") }
            if let index = active.first { return index }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("no active metadata server within \(timeout)")
    }

    /// A client of metadata server `index` alone (no failover). The caller closes the pool.
    public func meta(index: Int) async throws -> (MetaClient, WireConnectionPool) {
        let state = try state()
        guard let address = WireAddress(state.metas[index].address) else { throw TestFailure("bad address") }
        return try await ClusterEndpoint(metaAddress: address, credentials: try state.credentials()).meta()
    }

    /// The lease row `meta_leader` on the PostgreSQL primary: epoch and holder.
    public func leaseRow() throws -> (epoch: Int64, holder: String) {
        guard let primary = try state().postgres?.primary else { throw TestFailure("not a postgres cluster") }
        let row = try PostgresTools.query("SELECT epoch, holder FROM meta_leader WHERE id = 1", port: primary.port)
        let fields = row.split(separator: "|", maxSplits: 1)
        guard fields.count == 2, let epoch = Int64(fields[0]) else { throw TestFailure("no lease row: \(row)") }
        return (epoch, String(fields[1]))
    }

    /// The ways the failover tests take the active side down.
    public enum Failover: Sendable {
        /// SIGKILL of the active metadata server; `up` restarts it (as a standby) afterwards.
        case killActiveMeta
        /// The PostgreSQL primary crashes (`pg_ctl stop -m immediate`) and `radonfs meta promote`
        /// promotes its standby; `up` makes the old primary a standby again afterwards.
        case promotePostgres
        /// SIGSTOP of the active metadata server: its connections fall silent without closing,
        /// as behind a cut link. SIGCONT once another one serves and `frozenFor` has passed
        /// since the SIGSTOP; it wakes deposed (and answers what it held with `notActive`).
        case freezeActiveMeta(frozenFor: Duration)
    }

    /// What one failover took.
    public struct FailoverReport: Sendable, CustomStringConvertible {
        /// From the kill until a metadata server answered as active again.
        public var takeover: Duration
        /// The server active before and after.
        public var before: Int
        public var after: Int
        /// How long the failover's own steps took (the crash, the promotion), before the wait
        /// for an active server: a slow takeover says whether PostgreSQL or RadonFS was slow.
        public var steps: [(name: String, took: Duration)] = []

        public var description: String {
            let parts = steps.map { "\($0.name) \($0.took.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2))))" }
            return "metadata server \(before) -> \(after) in \(takeover)" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
        }
    }

    /// The last `lines` lines of every metadata server's log and every PostgreSQL server's, for
    /// a test to print when a failover went wrong (the cluster directory is removed afterwards).
    public func logTails(lines: Int = 25) -> String {
        guard let state = try? state() else { return "(no cluster.json)" }
        let logs = state.metas.enumerated().map { ("metadata server \($0.offset)", $0.element.logPath) }
            + [state.postgres?.primary, state.postgres?.standby].compactMap { $0 }.map { ("PostgreSQL \($0.dataDirectory)", $0.logPath) }
        return logs.map { name, path in
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log at \(path))"
            let tail = text.split(separator: "\n").filter { !$0.contains(" trace ") }.suffix(lines)
            return "--- \(name): \(path)\n" + tail.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Takes the active side down as `kind` says, waits until a metadata server serves again,
    /// then brings the cluster back to full strength with `up` (the dead part restarted as a
    /// standby). Returns the time to the new active.
    @discardableResult
    public func failOver(_ kind: Failover, timeout: Duration = .seconds(60)) async throws -> FailoverReport {
        let before = try await activeMeta()
        let started = ContinuousClock.now
        var steps: [(String, Duration)] = []
        func step(_ name: String, _ body: () throws -> Void) rethrows {
            let stepStarted = ContinuousClock.now
            try body()
            steps.append((name, stepStarted.duration(to: .now)))
        }
        switch kind {
        case .killActiveMeta:
            LocalProcess.killAndWait(try state().metas[before].pid, polls: killPolls)
        case .freezeActiveMeta(let frozenFor):
            let pid = try state().metas[before].pid
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            let after = try await activeMeta(timeout: timeout)
            let report = FailoverReport(takeover: started.duration(to: .now), before: before, after: after)
            try await Task.sleep(until: started + frozenFor)
            return report
        case .promotePostgres:
            guard let primary = try state().postgres?.primary else { throw TestFailure("not a postgres cluster") }
            step("crash") { PostgresTools.crash(dataDirectory: primary.dataDirectory) }
            try step("meta promote") { try run(["meta", "promote", "--dir", directory]) }
        }
        let after = try await activeMeta(timeout: timeout)
        let report = FailoverReport(takeover: started.duration(to: .now), before: before, after: after, steps: steps)
        if report.takeover > .seconds(20) { print("a slow failover (\(report)); the logs:\n\(logTails())") }
        try run(["up", "--dir", directory] + (try state().mount == nil ? ["--no-mount"] : []))
        return report
    }
}
