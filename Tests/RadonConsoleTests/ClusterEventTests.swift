import RadonConsole
import RadonWire
import Testing

/// The console's events from two looks at a made-up cluster: six nodes on six hosts, one 4+2
/// volume of six groups.
struct ClusterEventTests {
    static func node(_ id: UInt32, _ state: NodeState) -> NodeInfo {
        NodeInfo(id: id, uuid: "uuid-\(id)", address: WireAddress(host: "10.0.0.\(id)", port: 7500), hostID: "host-\(id)",
                 dataDirectory: "/data", pid: 100, capacity: 1 << 40, free: 1 << 39, fragmentCount: 10, state: state,
                 since: Timestamp(seconds: 1_000, nanoseconds: 0), lastSeen: Timestamp(seconds: 1_000, nanoseconds: 0))
    }

    static func observation(states: [NodeState] = Array(repeating: .up, count: 6), jobs: [HealingJob] = [], at seconds: Int64 = 2_000) -> ClusterObservation {
        let volume = VolumeSettings(id: 1, name: "default", codec: "mojette-systematic", k: 4, n: 6, blockSize: 1 << 20,
                                    inlineThreshold: 4096, groupCount: 6, isDefault: true)
        var groups: [PlacementGroup] = []
        for index in 0..<6 {
            let members: [UInt32] = (0..<6).map { position in UInt32((index + position) % 6 + 1) }
            groups.append(PlacementGroup(id: UInt32(index + 1), volumeID: 1, index: UInt32(index), epoch: 1, members: members))
        }
        let now = Timestamp(seconds: seconds, nanoseconds: 0)
        let status = ClusterStatus(nodes: states.enumerated().map { node(UInt32($0.offset + 1), $0.element) }, groups: groups,
                                   volumes: [volume], mapEpoch: 1, inodeCount: 5, now: now)
        return ClusterObservation(status: status, healing: HealingStatus(runID: 0, jobs: jobs, pendingRepairs: 0, now: now))
    }

    static func job(run: UInt64, group: UInt32, kind: HealingKind = .rebuild, state: HealingJobState, written: UInt64 = 0) -> HealingJob {
        HealingJob(id: UInt64(group), runID: run, kind: kind, volumeID: 1, groupID: group, targets: kind == .scrub ? [] : [0], state: state,
                   bytesWritten: written, createdAt: Timestamp(seconds: 1_990, nanoseconds: 0), updatedAt: Timestamp(seconds: 2_000, nanoseconds: 0))
    }

    @Test("the first look says what it watches and names nodes already down")
    func firstLook() {
        var states = Array(repeating: NodeState.up, count: 6)
        states[2] = .down
        let events = Self.observation(states: states).events(since: nil)
        #expect(events.map(\.kind) == [.watching, .nodeDown])
        #expect(events[0].message.contains("6 storage nodes (5 up, 1 down, 0 lost)"))
        #expect(events[1].message.contains("Node 3") && events[1].isWarning)
    }

    @Test("a node going down, lost, and up again; protection reduced, then full")
    func nodeStates() {
        let healthy = Self.observation()
        #expect(healthy.events(since: healthy).isEmpty)
        var states = Array(repeating: NodeState.up, count: 6)
        states[0] = .down
        let down = Self.observation(states: states)
        let downEvents = down.events(since: healthy)
        #expect(downEvents.map(\.kind) == [.nodeDown, .protectionChanged])
        #expect(downEvents[1].message.contains("survives 1 more node loss now"))
        states[0] = .lost
        let lost = Self.observation(states: states)
        #expect(lost.events(since: down).map(\.kind) == [.nodeLost])
        let back = Self.observation()
        let backEvents = back.events(since: lost)
        #expect(backEvents.map(\.kind) == [.nodeUp, .protectionChanged])
        #expect(backEvents[0].message.contains("up again (was lost)"))
        #expect(backEvents[1].message.contains("Full protection again") && !backEvents[1].isWarning)
    }

    @Test("a rebuild run starting and finishing; a scrub finishing with findings is a warning")
    func healingRuns() {
        let idle = Self.observation()
        let started = Self.observation(jobs: [Self.job(run: 4, group: 1, state: .running), Self.job(run: 4, group: 2, state: .queued)])
        let startEvents = started.events(since: idle).filter { $0.kind != .protectionChanged }
        #expect(startEvents.map(\.kind) == [.healingStarted])
        #expect(startEvents[0].message == "Rebuild run 4 started: 2 placement groups")
        let halfway = Self.observation(jobs: [Self.job(run: 4, group: 1, state: .done), Self.job(run: 4, group: 2, state: .running)])
        #expect(halfway.events(since: started).filter { $0.kind != .protectionChanged }.isEmpty)
        let done = Self.observation(jobs: [Self.job(run: 4, group: 1, state: .done, written: 3_000_000), Self.job(run: 4, group: 2, state: .done)])
        let doneEvents = done.events(since: halfway).filter { $0.kind != .protectionChanged }
        #expect(doneEvents.map(\.kind) == [.healingFinished])
        #expect(doneEvents[0].message.contains("2 of 2 groups healed, 3.0 MB written") && !doneEvents[0].isWarning)
        // Seen again, a finished run makes no new event.
        #expect(done.events(since: done).isEmpty)

        var finding = Self.job(run: 5, group: 3, kind: .scrub, state: .done)
        finding.found = 2
        finding.fixed = 1
        let scrubbed = Self.observation(jobs: [finding]).events(since: idle)
        #expect(scrubbed.map(\.kind) == [.scrubStarted, .scrubFinished])
        #expect(scrubbed[1].isWarning && scrubbed[1].message.contains("2 bad fragments found, 1 fixed"))
    }

    @Test("the snapshot: nodes, per-group health and the healing totals")
    func snapshot() {
        var states = Array(repeating: NodeState.up, count: 6)
        states[5] = .down
        let observation = Self.observation(states: states, jobs: [Self.job(run: 1, group: 1, state: .done), Self.job(run: 1, group: 2, state: .running)])
        let snapshot = ConsoleSnapshot(status: observation.status, healing: observation.healing)
        #expect(snapshot.nodes.map(\.state) == ["up", "up", "up", "up", "up", "down"])
        #expect(snapshot.groups.count == 6)
        // Node 6 down costs every group one loss; group 2 also has a position being rebuilt.
        #expect(snapshot.groups.allSatisfy { $0.health == .degraded })
        #expect(snapshot.groups.map(\.lossesSurvived) == [1, 0, 1, 1, 1, 1])
        #expect(snapshot.groups.filter(\.isHealing).map(\.id) == [2])
        #expect(snapshot.rebuild?.groups == 2 && snapshot.rebuild?.finished == 1)
        #expect(snapshot.scrub == nil)
        #expect(!snapshot.isFullyProtected && snapshot.lossesSurvived == 0)
        #expect(snapshot.rawCapacity == 5 << 40)
    }

    @Test("admin tokens: too short or with spaces refused; only the exact bearer token authorizes")
    func adminToken() throws {
        #expect(throws: ConsoleError.self) { try ConsoleAdminToken("short") }
        #expect(throws: ConsoleError.self) { try ConsoleAdminToken("has a space in the middle of it") }
        let token = try ConsoleAdminToken(ConsoleAdminToken.random())
        let random = ConsoleAdminToken.random()
        #expect(random.count == 64)
        #expect(token.authorizes("Bearer \(random)") == false)
        #expect(try ConsoleAdminToken("0123456789abcdef").authorizes("Bearer 0123456789abcdef"))
        #expect(try ConsoleAdminToken("0123456789abcdef").authorizes("Bearer 0123456789abcdeF") == false)
        #expect(try ConsoleAdminToken("0123456789abcdef").authorizes("0123456789abcdef") == false)
        #expect(try ConsoleAdminToken("0123456789abcdef").authorizes(nil) == false)
    }
}
