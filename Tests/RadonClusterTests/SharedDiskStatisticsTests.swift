import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `df` on a local cluster: `radonfs up` puts its six storage daemons' data directories in one
/// directory, on one disk, so the file system's size is that disk's size x k/n, not six times it.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SharedDiskStatisticsTests {
    @Test func aLocalClusterOnOneDiskReportsThatDiskOnce() async throws {
        try await TestCluster.with(nodes: 6, layout: "4+2") { cluster in
            var disk = statvfs()
            try #require(statvfs(cluster.directory, &disk) == 0, "statvfs \(cluster.directory)")
            let unit = Double(disk.f_frsize)
            let diskSize = Double(disk.f_blocks) * unit
            let diskAvailable = Double(disk.f_bavail) * unit

            let client = try await cluster.client()
            let statistics = try await client.statistics()
            await client.close()

            let blockSize = Double(statistics.blockSize)
            let total = Double(statistics.totalBlocks) * blockSize
            let free = Double(statistics.freeBlocks) * blockSize
            let expectedTotal = diskSize * 4 / 6
            #expect(abs(total - expectedTotal) <= expectedTotal * 0.02,
                    "total \(total) bytes; the disk's \(diskSize) x 4/6 is \(expectedTotal) (six times that would be the disk counted per daemon)")
            // Free space moves with whatever else writes to the disk; a loose margin still tells 1x from 6x.
            let expectedFree = diskAvailable * 4 / 6
            #expect(abs(free - expectedFree) <= max(expectedFree * 0.2, Double(1 << 30)), "free \(free) bytes, expected about \(expectedFree)")
            #expect(statistics.availableBlocks <= statistics.freeBlocks)
        }
    }
}
