import Foundation
import Glibc
@testable import RadonStorage
import Testing

/// The gathered write puts its parts back to back at the offset, empty parts and all.
struct POSIXFileTests {
    /// The write-back a deferred fsync starts early: found in glibc (else it would silently do
    /// nothing), and harmless to the bytes.
    @Test func writeBackStartsAndLeavesTheBytes() throws {
        #expect(POSIXFile.startsWriteBack)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("posixfile-\(UUID().uuidString)").path
        defer { unlink(path) }
        let file = try #require(try POSIXFile.createExclusively(path))
        let body = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try body.withUnsafeBytes { try file.write([$0], at: 8192) }
        file.startWriteBack(at: 8192, count: body.count)
        try file.synchronize()
        var read = [UInt8](repeating: 0, count: body.count)
        #expect(try read.withUnsafeMutableBytes { try file.read(into: $0, at: 8192) } == body.count)
        #expect(read == body)
    }

    @Test func partsAreWrittenBackToBackAtTheOffset() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("posixfile-\(UUID().uuidString)").path
        defer { unlink(path) }
        let file = try #require(try POSIXFile.createExclusively(path))
        let header = [UInt8](repeating: 0xAA, count: 37)
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        try header.withUnsafeBytes { header in
            try body.withUnsafeBytes { body in
                try file.write([header, UnsafeRawBufferPointer(start: nil, count: 0), body], at: 4096)
            }
        }
        var read = [UInt8](repeating: 0, count: 4096 + 37 + 300_000 + 10)
        let count = try read.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        #expect(count == 4096 + 37 + 300_000)
        #expect(read[0..<4096].allSatisfy { $0 == 0 })
        #expect(Array(read[4096..<4133]) == header)
        #expect(Array(read[4133..<count]) == body)
    }
}
