import Foundation

/// The metadata hosts of a test bed: one metadata server over SQLite on meta0 (`--metas 1`), or
/// the paper's active and standby pair (`--metas 2`): a PostgreSQL primary in meta0's namespace,
/// its streaming standby in meta1's (replicating over the bed's link), and a metadata server on
/// each host over that database, which elect the active one through it (the lease row).
extension TestbedLauncher {
    /// Each PostgreSQL server's port (primary, then standby one above): distinct although each
    /// listens in its own namespace, because both unix sockets live in DIR/postgres.
    static let postgresPort = 5432

    /// Where `LocalPostgres` puts the pair: the primary on the first metadata host, the standby on
    /// the second, each on its host's address, trusting the whole bed (the metadata servers and
    /// the replication connect from other hosts).
    static func postgresPlacement(_ metaHosts: [TestbedPlan.Host]) -> LocalPostgres.Placement {
        let site = { (index: Int) in
            LocalPostgres.Placement.Site(
                address: metaHosts[index].addresses[0], port: postgresPort + index,
                networkNamespace: TestbedNetwork.namespacePath(of: metaHosts[index]))
        }
        return LocalPostgres.Placement(primary: site(0), standby: site(1), trustedNetwork: TestbedPlan.network)
    }

    /// Starts PostgreSQL when the bed has two metadata hosts, then a metadata server on every
    /// metadata host; returns the servers (meta0's first) and the PostgreSQL pair, if any.
    func startMetas(
        state: inout TestbedState, security: (String) -> [String]
    ) async throws -> (metas: [LocalClusterState.Daemon], postgres: LocalClusterState.Postgres?) {
        let hosts = plan.hosts(.meta)
        var database = "\(directory)/meta/meta.db"
        var postgres: LocalClusterState.Postgres?
        if hosts.count > 1 {
            let placement = Self.postgresPlacement(hosts)
            let started = try LocalPostgres(clusterDirectory: directory, placement: placement).ensureRunning(previous: nil)
            state.postgres = started
            try state.save()
            database = started.url
            postgres = started
            log("postgres \(hosts[0].name)  \(placement.primary.address):\(placement.primary.port) primary; \(hosts[1].name)  \(placement.standby.address):\(placement.standby.port) streaming standby")
        }
        var metas: [LocalClusterState.Daemon] = []
        for (index, host) in hosts.enumerated() {
            let name = LocalClusterLauncher.metaName(index)
            let meta = try await startDaemon(
                on: host, kind: "meta", name: name, addresses: ["\(host.addresses[0]):\(Self.metaPort)"], state: &state,
                arguments: ["meta", "--db", database, "--no-console"] + security(name), dataPath: database)
            metas.append(meta)
            log("meta     \(host.name)  \(meta.address)")
        }
        return (metas, postgres)
    }
}
