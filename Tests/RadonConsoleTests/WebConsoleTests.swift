import Foundation
import RadonClient
import RadonConsole
import RadonTestSupport
import RadonWire
import Testing

/// The web console of a real cluster (`radonfs up`, 6 nodes, 4+2), loaded in headless Chromium
/// as a user's browser loads it: the node count, a node turning down within seconds of a
/// SIGKILL, admin actions refused without the token, and a rebuild's progress.
///
/// With RADONFS_CONSOLE_SCREENSHOT=FILE in the environment it also saves a screenshot of the
/// page during the rebuild (how the README's picture is made).
@Suite(.serialized) struct WebConsoleTests {
    @Test("headless Chromium: 6 nodes shown, a killed node down within seconds, admin-only actions, rebuild progress")
    func consoleInABrowser() async throws {
        try await LocalCluster.with(
            directoryPrefix: "radonfs-console", nodes: 6, layout: "4+2", blockSize: 64 << 10,
            environment: ["RADONFS_DOWN_AFTER": "3", "RADONFS_LOST_AFTER": "600"]
        ) { cluster in
            let address = try #require(try cluster.state().meta.consoleAddress)
            let url = "http://\(address)/"
            let token = try String(contentsOfFile: cluster.directory + "/console-admin-token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            for index in 0..<16 {
                _ = try await client.writeFile(parent: 1, name: FileName("file-\(index)"), bytes: patternBytes(count: 96 << 10, seed: UInt64(index)))
            }

            // What the page polls, and what the browser draws of it. The console looks once a
            // second, so its snapshot may predate the volume's groups for a moment (on a loaded
            // machine, a few).
            try await poll("the console to see the volume's groups", timeout: .seconds(20), interval: .milliseconds(200)) {
                (try? await Self.state(address))?.groups.isEmpty == false
            }
            let state = try await Self.state(address)
            #expect(state.nodes.count == 6 && state.nodes.allSatisfy { $0.state == "up" })
            #expect(state.groups.count > 0 && state.groups.allSatisfy { $0.health == .healthy })
            let page = try HeadlessBrowser.dom(of: url)
            #expect(HeadlessBrowser.attribute("data-nodes-total", in: page, at: "<body") == "6")
            #expect(HeadlessBrowser.attribute("data-nodes-up", in: page, at: "<body") == "6")
            #expect(HeadlessBrowser.count("data-state=\"up\"", in: page) == 6)
            #expect(HeadlessBrowser.count("data-health=\"healthy\"", in: page) == state.groups.count)
            // The console starts looking before the storage daemons register: they join in its events.
            #expect(page.contains("Console started") && HeadlessBrowser.count("data-kind=\"nodeJoined\"", in: page) == 6)
            #expect(HeadlessBrowser.attribute("class", in: page, at: "<body") == nil, "admin without a token")
            let adminPage = try HeadlessBrowser.dom(of: url + "#token=" + token)
            #expect(HeadlessBrowser.attribute("class", in: adminPage, at: "<body") == "admin")

            // Admin actions: refused without the token or with a wrong one.
            #expect(try Self.post(address, "/api/rebuild", token: nil).status == 403)
            #expect(try Self.post(address, "/api/scrub", token: String(repeating: "0", count: 64)).status == 403)

            // A storage daemon killed: the page shows it down within seconds.
            let killed = try await cluster.nodeID(ofStorage: 2)
            try cluster.killStorage(2)
            let clock = ContinuousClock()
            let start = clock.now
            var seenDown = ""
            try await poll("the console to show node \(killed) down", timeout: .seconds(40), interval: .milliseconds(200)) {
                seenDown = try HeadlessBrowser.dom(of: url, settle: .seconds(1))
                return seenDown.contains("data-node-id=\"\(killed)\" data-state=\"down\"")
            }
            let took = clock.now - start
            print("web console: node \(killed) shown down \(took) after its SIGKILL (the service's down-after is 3 s)")
            #expect(took < .seconds(20))
            #expect(HeadlessBrowser.attribute("data-nodes-up", in: seenDown, at: "<body") == "5")
            #expect(seenDown.contains("Node \(killed) (") && seenDown.contains("is down"))

            // An admin starts a rebuild at a held rate: the page shows it under way, then done.
            let started = try Self.post(address, "/api/rebuild?rate=0.05", token: token)
            #expect(started.status == 200, "\(started.body)")
            #expect(started.body.contains("Rebuild run"))
            var fractions: [String] = []
            try await poll("the console to show the rebuild done", timeout: .seconds(300), interval: .milliseconds(500)) {
                let page = try HeadlessBrowser.dom(of: url, settle: .seconds(1))
                let groups = Int(HeadlessBrowser.attribute("data-groups", in: page, at: "id=\"rebuild\"") ?? "") ?? 0
                let finished = Int(HeadlessBrowser.attribute("data-finished", in: page, at: "id=\"rebuild\"") ?? "") ?? 0
                fractions.append("\(finished)/\(groups)")
                if fractions.count == 2, let file = ProcessInfo.processInfo.environment["RADONFS_CONSOLE_SCREENSHOT"] {
                    try HeadlessBrowser.screenshot(of: url + "#token=" + token, to: file)
                }
                return groups > 0 && finished == groups && page.contains("done: 100%")
            }
            print("web console: rebuild as the page showed it: \(fractions.joined(separator: " "))")
            #expect(fractions.contains { $0.split(separator: "/").first != $0.split(separator: "/").last }, "the page never showed the rebuild under way")
            let after = try await Self.state(address)
            #expect(after.events.contains { $0.kind == .healingFinished })
            #expect(after.events.contains { $0.kind == .adminAction && $0.message.contains("Rebuild run") })
        }
    }

    static func state(_ address: String) async throws -> ConsoleSnapshot {
        try JSONDecoder().decode(ConsoleSnapshot.self, from: Data(try Curl.fetch("http://\(address)/api/state").body.utf8))
    }

    static func post(_ address: String, _ path: String, token: String?) throws -> Curl.Reply {
        try Curl.fetch("http://\(address)\(path)", method: "POST", headers: token.map { ["Authorization: Bearer \($0)"] } ?? [])
    }
}
