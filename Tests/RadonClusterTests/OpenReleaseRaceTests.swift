import Foundation
@testable import RadonClient
import RadonTestSupport
import Testing

/// Opens racing the last release of the same file, in one client: every handle must stay on
/// the one `OpenFile` the client's table holds for its inode, or writes through it and reads
/// through a handle opened later would go to two different objects (the later reader missing
/// the earlier writer's unflushed bytes).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct OpenReleaseRaceTests {
    @Test func opensRacingTheLastReleaseShareOneOpenFile() async throws {
        try await TestCluster.with(blockSize: 64 << 10) { cluster in
            let client = try await cluster.client()
            let inode = try await client.writeFile(parent: 1, name: "open-release", bytes: patternBytes(count: 4096, seed: 7)).inode
            let flags = OpenFlags(read: true, write: true)
            var orphans = 0
            for round in 0..<300 {
                let first = try await client.open(inode, flags: flags, context: .root)
                async let released: Void = client.release(first)
                async let reopened = client.open(inode, flags: flags, context: .root)
                try await released
                let second = try await reopened
                if try client.handleEntry(second).file !== client.openFile(inode) { orphans += 1 }
                // A byte written through the second handle is seen through a third at once.
                let value = UInt8(truncatingIfNeeded: round)
                _ = try await client.write(second, offset: UInt64(round % 4096), bytes: [value])
                let third = try await client.open(inode, flags: flags, context: .root)
                let seen = try await client.read(third, offset: UInt64(round % 4096), count: 1)
                #expect(seen == [value], "round \(round): a handle opened later reads the earlier handle's write")
                try await client.release(third)
                try await client.release(second)
                #expect(client.openFile(inode) == nil, "round \(round): the last release closes the file")
            }
            #expect(orphans == 0, "handles left on a file the client no longer holds")
            // Many tasks opening and releasing at once: every handle on the table's file.
            let stray = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var stray = 0
                        for _ in 0..<150 {
                            let handle = try await client.open(inode, flags: flags, context: .root)
                            await Task.yield()
                            if try client.handleEntry(handle).file !== client.openFile(inode) { stray += 1 }
                            try await client.release(handle)
                        }
                        return stray
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(stray == 0, "handles of concurrent opens on a file the client no longer holds")
            #expect(client.openFile(inode) == nil, "the last release closes the file")
            await client.close()
        }
    }
}
