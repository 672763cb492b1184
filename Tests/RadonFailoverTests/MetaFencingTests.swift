import Foundation
import RadonTestSupport
import RadonWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two metadata servers over one PostgreSQL (`up --meta-engine postgres`): one active, one
/// standby, and what happens to each side of a takeover.
@Suite("Active/standby metadata servers", .serialized)
struct MetaFencingTests {
    /// A short lease keeps the test short; takeovers take about this long. Storage daemons,
    /// like the mount, take every metadata address and heartbeat to whichever is active.
    static let environment = ["RADONFS_META_LEASE": "3"]

    @Test("A frozen active is replaced within seconds and, once woken, writes nothing and answers notActive")
    func frozenActiveIsFencedAfterTakeover() async throws {
        try await LocalCluster.with(
            directoryPrefix: "radonfs-fence", nodes: 3, layout: "2+1", environment: Self.environment,
            upArguments: LocalCluster.activeStandbyArguments()
        ) { cluster in
            let old = try await cluster.activeMeta()
            let standby = 1 - old
            #expect(try await cluster.role(ofMeta: standby) == .standby)
            let oldPid = try cluster.state().metas[old].pid
            let lease = try cluster.leaseRow()
            #expect(lease.holder.hasSuffix("pid \(oldPid)"))

            let (deposed, deposedPool) = try await cluster.meta(index: old)
            defer { Task { await deposedPool.closeAll() } }
            _ = try await deposed.create(parent: 1, name: "before", permissions: 0o644, exclusive: true, caller: .root)

            kill(oldPid, SIGSTOP)
            defer { kill(oldPid, SIGCONT) }
            let frozen = ContinuousClock.now
            try await poll("the standby to take over", timeout: .seconds(30), interval: .milliseconds(50)) {
                try await cluster.role(ofMeta: standby) == .active
            }
            let takeover = frozen.duration(to: .now)
            print("takeover after SIGSTOP of the active metadata server (lease 3 s): \(takeover)")
            #expect(takeover < .seconds(10))
            let taken = try cluster.leaseRow()
            #expect(taken.epoch == lease.epoch + 1)
            #expect(taken.holder.hasSuffix("pid \(try cluster.state().metas[standby].pid)"))

            // Woken, the old active refuses at once, writes and reads alike.
            kill(oldPid, SIGCONT)
            await #expect { try await deposed.create(parent: 1, name: "from-the-deposed", permissions: 0o644, exclusive: true, caller: .root) }
                throws: { ($0 as? WireError)?.status == .notActive }
            await #expect { try await deposed.attributes(of: 1) } throws: { ($0 as? WireError)?.status == .notActive }

            // Nothing it was asked reached the namespace; it took nothing back.
            let (current, currentPool) = try await cluster.meta(index: standby)
            defer { Task { await currentPool.closeAll() } }
            _ = try await current.lookup(parent: 1, name: "before", caller: .root)
            await #expect(throws: FileSystemError.self) { try await current.lookup(parent: 1, name: "from-the-deposed", caller: .root) }
            _ = try await current.create(parent: 1, name: "after", permissions: 0o644, exclusive: true, caller: .root)
            try await Task.sleep(for: .seconds(2))
            let later = try cluster.leaseRow()
            #expect(later.epoch == taken.epoch && later.holder == taken.holder)
            #expect(try await cluster.role(ofMeta: old) == .standby)
        }
    }

    @Test("A SIGKILLed active is replaced, and the restarted one stands by")
    func killedActiveIsReplaced() async throws {
        try await LocalCluster.with(
            directoryPrefix: "radonfs-kill", nodes: 3, layout: "2+1", environment: Self.environment,
            upArguments: LocalCluster.activeStandbyArguments()
        ) { cluster in
            let before = try await cluster.activeMeta()
            let (meta, pool) = try await cluster.meta(index: before)
            _ = try await meta.makeDirectory(parent: 1, name: "kept", permissions: 0o755, caller: .root)
            await pool.closeAll()

            let report = try await cluster.failOver(.killActiveMeta)
            print("takeover after SIGKILL of the active metadata server (lease 3 s): \(report)")
            #expect(report.after != before)
            #expect(report.takeover < .seconds(10))
            #expect(try await cluster.role(ofMeta: before) == .standby)
            let (current, currentPool) = try await cluster.meta(index: report.after)
            defer { Task { await currentPool.closeAll() } }
            _ = try await current.lookup(parent: 1, name: "kept", caller: .root)
        }
    }

    @Test("The metadata servers follow a promotion of the PostgreSQL standby")
    func serversFollowPostgresPromotion() async throws {
        try await LocalCluster.with(
            directoryPrefix: "radonfs-promote", nodes: 3, layout: "2+1", environment: Self.environment,
            upArguments: LocalCluster.activeStandbyArguments()
        ) { cluster in
            let oldPostgres = try #require(try cluster.state().postgres)
            let oldStandby = try #require(oldPostgres.standby)
            let before = try await cluster.activeMeta()
            let (meta, pool) = try await cluster.meta(index: before)
            _ = try await meta.makeDirectory(parent: 1, name: "before-promotion", permissions: 0o755, caller: .root)
            await pool.closeAll()
            let epoch = try cluster.leaseRow().epoch

            let report = try await cluster.failOver(.promotePostgres)
            print("a metadata server serves again after the PostgreSQL primary crashed and its standby was promoted: \(report)")
            #expect(report.takeover < .seconds(30))

            let postgres = try #require(try cluster.state().postgres)
            #expect(postgres.primary.port == oldStandby.port)
            #expect(try PostgresTools.query("SELECT pg_is_in_recovery()", port: postgres.primary.port) == "f")
            // `up` made the old primary a standby of the new one.
            let rebuilt = try #require(postgres.standby)
            #expect(rebuilt.port == oldPostgres.primary.port)
            #expect(try PostgresTools.query("SELECT pg_is_in_recovery()", port: rebuilt.port) == "t")
            #expect(try cluster.leaseRow().epoch >= epoch)
            // Longer than a lease after the promotion, the lease on the new primary is live: the
            // servers' leadership connections moved there and renew it.
            try await Task.sleep(for: .seconds(4))
            #expect(try PostgresTools.query("SELECT expires_at > now() FROM meta_leader", port: postgres.primary.port) == "t")
            let holders = try cluster.state().metas.map { "pid \($0.pid)" }
            #expect(holders.contains { (try? cluster.leaseRow().holder.hasSuffix($0)) == true })

            let active = try await cluster.activeMeta()
            let (current, currentPool) = try await cluster.meta(index: active)
            defer { Task { await currentPool.closeAll() } }
            _ = try await current.lookup(parent: 1, name: "before-promotion", caller: .root)
            _ = try await current.makeDirectory(parent: 1, name: "after-promotion", permissions: 0o755, caller: .root)
        }
    }
}
