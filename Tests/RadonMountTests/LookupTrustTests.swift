import Foundation
import Glibc
import RadonClient
import Testing

/// A lookup answered from what the client was sent ahead is trusted only for what is left of
/// its lifetime (`LookedUpEntry.trustedFor`): the mount must give the kernel no longer, or a
/// name another client removed would outlive the 1 s promise. Counted on the in-memory file
/// system through the real kernel.
@Suite("Lookup trust reaches the kernel", .serialized)
struct LookupTrustTests {
    @Test func anAnswerTrustedForNothingIsNotCachedAndAFreshOneIs() async throws {
        let fileSystem = InMemoryFileSystem()
        let mount = try await InProcessMount.start(fileSystem)
        do {
            for name in ["fresh", "stale"] {
                _ = try await fileSystem.makeNode(parent: 1, name: FileName(name), kind: .regular, permissions: 0o644, rdev: 0, context: .root)
            }
            func lookupsOf(_ name: String) async throws -> Int {
                let before = await fileSystem.lookups
                for _ in 0..<3 {
                    var information = stat()
                    guard lstat("\(mount.path)/\(name)", &information) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                }
                return await fileSystem.lookups - before
            }
            #expect(try await lookupsOf("fresh") == 1, "a fresh answer is kept for the mount's timeouts")
            await fileSystem.trustLookups(for: .zero)
            #expect(try await lookupsOf("stale") == 3, "an answer trusted for nothing is asked again at every stat")
        } catch {
            try? await mount.stop()
            throw error
        }
        try await mount.stop()
    }
}
