import Foundation
import Logging
import NIOCore
import NIOSSL
import RadonConsole
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// The console's HTTP side over a made-up metadata service (an in-process transport answering
/// `status`, the healing status and the admin actions): what it serves, what it refuses, and
/// HTTPS with a web certificate, checked by curl against that certificate's CA.
@Suite(.serialized) struct ConsoleServerTests {
    /// Answers the opcodes the console calls; a node removal is refused, as the service refuses
    /// to leave a group without a place for its positions.
    static func fakeMeta(starts: RecordedStarts) -> MetaClient {
        let observation = ClusterEventTests.observation()
        return MetaClient(transport: InProcessMetaTransport { request in
            switch request.opcode {
            case MetaOpcode.status.rawValue:
                return .ok(observation.status)
            case MetaHealingOpcode.status.rawValue:
                return .ok(observation.healing)
            case MetaHealingOpcode.start.rawValue:
                var payload = request.payload
                let rate: UInt64 = (try? StartHealingRequest(from: &payload).rateLimit) ?? 0
                starts.rates.withLock { $0.append(rate) }
                let jobs = [ClusterEventTests.job(run: 7, group: 1, state: .queued), ClusterEventTests.job(run: 7, group: 2, state: .queued)]
                return .ok(HealingStatus(runID: 7, jobs: jobs, pendingRepairs: 0, now: observation.status.now))
            case MetaHealingOpcode.nodeCommand.rawValue:
                return .failure(.invalidArgument, "no node on another host can take node 3's positions")
            default:
                return .failure(.unsupported, "not in this fake")
            }
        })
    }

    /// Runs a console on a free loopback port for `body`, then stops it.
    static func withConsole(
        token: String?, tls: Bool = false, _ body: (_ base: String, _ certificateAuthority: String?, _ starts: RecordedStarts) async throws -> Void
    ) async throws {
        let starts = RecordedStarts()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-console-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = tls ? try WebCertificate.make(in: directory) : nil
        let bound = AsyncStream<String>.makeStream()
        let server = try ConsoleServer(
            host: "127.0.0.1", port: 0, meta: fakeMeta(starts: starts), adminToken: try token.map { try ConsoleAdminToken($0) },
            tls: configuration?.tls, interval: .milliseconds(100), logger: Logger(label: "test.console")
        ) { address in bound.continuation.yield(address) }
        let running = Task { try await server.run() }
        defer { running.cancel() }
        var addresses = bound.stream.makeAsyncIterator()
        let address = try #require(await addresses.next())
        try await body((tls ? "https://" : "http://") + address, configuration?.authorityFile, starts)
    }

    @Test("read-only without a token: page and state served, every action 403, sessions say so")
    func readOnly() async throws {
        try await Self.withConsole(token: nil) { base, _, starts in
            let page = try Curl.fetch(base + "/")
            #expect(page.status == 200 && page.body.contains("<title>RadonFS console</title>"))
            try await poll("a look at the fake cluster", timeout: .seconds(10)) {
                try Curl.fetch(base + "/api/state").body.contains("\"isActive\":true")
            }
            let state = try JSONDecoder().decode(ConsoleSnapshot.self, from: Data(try Curl.fetch(base + "/api/state").body.utf8))
            #expect(state.nodes.count == 6 && state.groups.count == 6 && state.isFullyProtected)
            #expect(try Curl.fetch(base + "/api/session").body.contains("\"canBeAdmin\":false"))
            let refused = try Curl.fetch(base + "/api/rebuild", method: "POST", headers: ["Authorization: Bearer 0123456789abcdef"])
            #expect(refused.status == 403 && refused.body.contains("read-only"))
            #expect(starts.rates.withLock { $0.isEmpty })
            #expect(try Curl.fetch(base + "/nothing-here").status == 404)
        }
    }

    @Test("with a token: actions only with it, the rate passed on, a refusal is a 409 with the service's sentence, events recorded")
    func adminActions() async throws {
        let token = "0123456789abcdef0123"
        try await Self.withConsole(token: token) { base, _, starts in
            let admin = ["Authorization: Bearer \(token)"]
            #expect(try Curl.fetch(base + "/api/session", headers: admin).body.contains("\"isAdmin\":true"))
            #expect(try Curl.fetch(base + "/api/session").body.contains("\"isAdmin\":false"))
            #expect(try Curl.fetch(base + "/api/scrub", method: "POST", headers: ["Authorization: Bearer \(token)x"]).status == 403)
            #expect(try Curl.fetch(base + "/api/scrub", method: "POST", headers: ["Authorization: \(token)"]).status == 403)
            let rebuild = try Curl.fetch(base + "/api/rebuild?rate=2.5", method: "POST", headers: admin)
            #expect(rebuild.status == 200 && rebuild.body.contains("Rebuild run 7 started: 2 placement groups"))
            #expect(try Curl.fetch(base + "/api/rebuild?rate=fast", method: "POST", headers: admin).status == 400)
            #expect(starts.rates.withLock { $0 } == [2_500_000])
            let remove = try Curl.fetch(base + "/api/nodes/3/remove", method: "POST", headers: admin)
            #expect(remove.status == 409 && remove.body.contains("no node on another host can take"))
            #expect(try Curl.fetch(base + "/api/nodes/x/remove", method: "POST", headers: admin).status == 400)
            let state = try JSONDecoder().decode(ConsoleSnapshot.self, from: Data(try Curl.fetch(base + "/api/state").body.utf8))
            let actions = state.events.filter { $0.kind == .adminAction }.map(\.message)
            #expect(actions.count == 2 && actions.contains { $0.contains("Rebuild run 7") } && actions.contains { $0.contains("remove node 3 refused") })
        }
    }

    @Test("HTTPS with a web certificate: curl verifies it against its CA; plain HTTP gets no page")
    func https() async throws {
        try await Self.withConsole(token: "0123456789abcdef0123", tls: true) { base, authority, _ in
            let authority = try #require(authority)
            let page = try Curl.fetch(base + "/", extra: ["--cacert", authority])
            #expect(page.status == 200 && page.body.contains("RadonFS console"))
            let plain = try Curl.fetch(base.replacingOccurrences(of: "https://", with: "http://") + "/", allowFailure: true)
            #expect(plain.status != 200)
        }
    }
}

/// The rate limits of the healing runs the fake service was asked to start.
final class RecordedStarts: Sendable {
    let rates = Mutex<[UInt64]>([])
}

/// A self-signed web certificate for 127.0.0.1 made by Debian's openssl (what an operator
/// brings for `--console-tls-certificate`).
enum WebCertificate {
    static func make(in directory: String) throws -> (tls: TLSConfiguration, authorityFile: String) {
        let certificate = directory + "/console.pem"
        let key = directory + "/console.key"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", certificate,
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl req exited \(process.terminationStatus)") }
        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return (tls, certificate)
    }
}
