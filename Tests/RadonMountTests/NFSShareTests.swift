import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 13's NFS re-export: `radonfs share nfs` (NFS-Ganesha, VFS backend) serves a directory of
/// a real RadonFS mount from a network namespace (the re-exporting host, with its own rpcbind
/// in a private /run so the machine's is never touched), and libnfs's userspace client on the
/// other end of the link writes and reads files, compared through NFS and through the mount.
@Suite("NFS re-export of a mount", .serialized)
struct NFSShareTests {
    @Test("nfs-cp and nfs-ls from another host: a file put over NFSv3 is on the mount, root squashed, and reads back")
    func roundTripFromAnotherHost() async throws {
        try await LocalCluster.with(directoryPrefix: "radonfs-nfs", mount: true) { cluster in
            let mountPoint = try #require(try cluster.state().mount).mountPoint
            let link = try NetworkNamespace()
            defer { link.remove() }
            let shared = "\(mountPoint)/exported"
            let state = "\(cluster.directory)/nfs-state"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
            // Root on the client acts as nobody (root squash): the directory is nobody's.
            try await Shell.check("chown", "chown 65534:65534 '\(shared)'")
            let serve = [RadonBinary.path, "share", "nfs", "--path", shared, "--listen", link.namespaceAddress, "--state-dir", state]

            let printed = try await Shell.run("'\(serve.joined(separator: "' '"))' --print-config")
            #expect(printed.status == 0 && printed.output.contains("Path = \"\(shared)\";"), "\(printed.output)\(printed.errors)")

            let log = "\(cluster.directory)/ganesha.out"
            let script = "mount -t tmpfs radonfs-rpc /run && rpcbind -w && exec '\(serve.joined(separator: "' '"))'"
            let server = try LocalProcess.spawn(link.command(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script]), log: log, environment: [:])
            defer { Self.stopEverything(in: link, server: server) }

            let base = "nfs://\(link.namespaceAddress)\(shared)"
            func describe(_ result: Shell.Result) -> String {
                let ganeshaLog = (try? String(contentsOfFile: "\(state)/ganesha.log", encoding: .utf8)) ?? ""
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return "exit \(result.status): \(result.output)\(result.errors)\nserver:\n\(output.suffix(2000))\nganesha.log:\n\(ganeshaLog.suffix(3000))"
            }
            try await poll("Ganesha to serve on \(link.namespaceAddress)", timeout: .seconds(60)) {
                guard LocalProcess.isRunning(server) else { throw TestFailure("the server exited") }
                return try await Shell.run("nfs-ls '\(base)?version=3'", timeout: .seconds(20)).status == 0
            }

            let bytes = patternBytes(count: 3 << 20 | 4_321, seed: 21)
            let scratch = "\(cluster.directory)/nfs-scratch"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(scratch)/take.mov"))

            let put = try await Shell.run("nfs-cp '\(scratch)/take.mov' '\(base)/take.mov?version=3'", timeout: .seconds(120))
            try #require(put.status == 0, "nfs-cp put: \(describe(put))")
            let stored = try Data(contentsOf: URL(fileURLWithPath: "\(shared)/take.mov"))
            #expect(stored.count == bytes.count && sha256(Array(stored)) == sha256(bytes), "the file put over NFS differs on the RadonFS mount")
            var owner = stat()
            #expect(stat("\(shared)/take.mov", &owner) == 0 && owner.st_uid == 65534, "root was not squashed (owner \(owner.st_uid))")

            let listing = try await Shell.run("nfs-ls '\(base)?version=3'", timeout: .seconds(30))
            #expect(listing.status == 0 && listing.output.contains("take.mov") && listing.output.contains("\(bytes.count)"), "nfs-ls: \(describe(listing))")

            let note = patternBytes(count: 50_000, seed: 22)
            try Data(note).write(to: URL(fileURLWithPath: "\(shared)/from-mount.bin"))
            for (name, expected) in [("take.mov", bytes), ("from-mount.bin", note)] {
                let get = try await Shell.run("nfs-cp '\(base)/\(name)?version=3' '\(scratch)/back-\(name)'", timeout: .seconds(120))
                try #require(get.status == 0, "nfs-cp get \(name): \(describe(get))")
                let back = try Data(contentsOf: URL(fileURLWithPath: "\(scratch)/back-\(name)"))
                #expect(back.count == expected.count && sha256(Array(back)) == sha256(expected), "\(name) read back over NFS differs")
            }
        }
    }

    /// Every process in the namespace (Ganesha, rpcbind) gets SIGTERM, then SIGKILL: they
    /// hold a copy of the mount in their mount namespace, so they must be gone before the
    /// cluster unmounts.
    static func stopEverything(in link: NetworkNamespace, server: Int32) {
        kill(server, SIGTERM)
        LocalProcess.waitUntilGone(server, polls: 500)
        let pids = ((try? NetworkNamespace.ip(["netns", "pids", link.name])) ?? "").split(separator: "\n").compactMap { Int32($0) }
        for pid in pids + [server] { LocalProcess.killAndWait(pid, polls: 300) }
    }
}
