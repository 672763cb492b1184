import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 13's re-export: `radonfs share smb` serves a directory of a real RadonFS mount on the
/// host end of a veth link, and smbclient runs in the network namespace at the other end (the
/// "other host", which has no RadonFS client): put, ls, rename, get, delete, with the bytes
/// compared through SMB and through the mount, and a wrong password refused.
@Suite("SMB re-export of a mount", .serialized)
struct SMBShareTests {
    static let password = "radon-Secret-7"

    @Test("smbclient on another host: put, ls, rename, get, delete through Samba over the mount; a wrong password is refused")
    func roundTripFromAnotherHost() async throws {
        try await LocalCluster.with(directoryPrefix: "radonfs-smb", mount: true) { cluster in
            let mountPoint = try #require(try cluster.state().mount).mountPoint
            let link = try NetworkNamespace()
            defer { link.remove() }
            let user = "rfsmb\(getpid() % 100_000)"
            try await Shell.check("useradd", "useradd --no-create-home --shell /usr/sbin/nologin \(user)")
            defer { _ = try? Process.run(URL(fileURLWithPath: "/usr/sbin/userdel"), arguments: [user]).waitUntilExit() }

            let shared = "\(mountPoint)/projects"
            let state = "\(cluster.directory)/smb-state"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
            try await Shell.check("chown", "chown \(user) '\(shared)'")
            let port = Int.random(in: 20_000...40_000)
            let serve = [RadonBinary.path, "share", "smb", "--path", shared, "--name", "radon", "--listen", link.hostAddress,
                         "--port", "\(port)", "--state-dir", state, "--user", user]

            try await Shell.check("smb-password", "printf '%s\\n' '\(Self.password)' | '\(RadonBinary.path)' share smb-password --state-dir '\(state)' --user \(user)")
            // The configuration is one Samba itself accepts, with no unknown setting.
            let check = try await Shell.run("'\(serve.joined(separator: "' '"))' --print-config > conf && testparm -s conf 2>&1 >/dev/null")
            #expect(check.status == 0, "testparm: \(check.output)")
            #expect(!check.output.contains("Unknown parameter") && !check.output.contains("Ignoring unknown"), "\(check.output)")

            let log = "\(cluster.directory)/smbd.log"
            let server = try LocalProcess.spawn(serve, log: log, environment: [:])
            defer { Self.stop(server, stateDirectory: state) }

            /// smbclient in the namespace: the other host, which reaches the server only over the link.
            func smbclient(_ command: String, password: String = Self.password, host: String? = nil) async throws -> Shell.Result {
                let client = ["smbclient", "//\(host ?? link.hostAddress)/radon", "-p", "\(port)", "-U", "\(user)%\(password)", "-m", "SMB3", "-c", command]
                return try await Shell.run(host == nil ? "'\(link.command(client).joined(separator: "' '"))'" : "'\(client.joined(separator: "' '"))'", timeout: .seconds(60))
            }
            func expectSuccess(_ result: Shell.Result, _ what: String) throws {
                guard result.status == 0 else {
                    let serverLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    throw TestFailure("smbclient \(what) (server running: \(LocalProcess.isRunning(server))) exited \(result.status):\n\(result.output)\(result.errors)\nsmbd:\n\(serverLog.suffix(6000))")
                }
            }
            // Until smbd answers (or exits); then the same `ls` fails with smbd's log if it never did.
            try? await poll("smbd to serve on \(link.hostAddress):\(port)", timeout: .seconds(30)) {
                LocalProcess.isRunning(server) ? try await smbclient("ls").status == 0 : true
            }
            try expectSuccess(try await smbclient("ls"), "ls once smbd is up")

            let bytes = patternBytes(count: 3 << 20 | 12_345, seed: 13)
            let scratch = "\(cluster.directory)/smb-scratch"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(scratch)/clip.mov"))

            try expectSuccess(try await smbclient("put \(scratch)/clip.mov clip.mov"), "put")
            let stored = try Data(contentsOf: URL(fileURLWithPath: "\(shared)/clip.mov"))
            #expect(stored.count == bytes.count && sha256(Array(stored)) == sha256(bytes), "the file put over SMB differs on the RadonFS mount")
            var owner = stat()
            #expect(stat("\(shared)/clip.mov", &owner) == 0 && owner.st_uid == getpwnam(user).pointee.pw_uid, "not owned by the share's user")

            let listing = try await smbclient("ls")
            try expectSuccess(listing, "ls")
            #expect(listing.output.contains("clip.mov") && listing.output.contains("\(bytes.count)"), "ls: \(listing.output)")

            try expectSuccess(try await smbclient("rename clip.mov final.mov"), "rename")
            #expect(!FileManager.default.fileExists(atPath: "\(shared)/clip.mov") && FileManager.default.fileExists(atPath: "\(shared)/final.mov"))

            try expectSuccess(try await smbclient("get final.mov \(scratch)/back.mov"), "get")
            let back = try Data(contentsOf: URL(fileURLWithPath: "\(scratch)/back.mov"))
            #expect(back.count == bytes.count && sha256(Array(back)) == sha256(bytes), "the file read back over SMB differs")

            // The other way: what the mount writes, the SMB client reads.
            let note = patternBytes(count: 70_000, seed: 14)
            try Data(note).write(to: URL(fileURLWithPath: "\(shared)/from-mount.bin"))
            try expectSuccess(try await smbclient("get from-mount.bin \(scratch)/note.bin"), "get of a file written through the mount")
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(scratch)/note.bin")) == Data(note))

            try expectSuccess(try await smbclient("del final.mov"), "del")
            #expect(!FileManager.default.fileExists(atPath: "\(shared)/final.mov"), "deleted over SMB but still on the mount")
            let after = try await smbclient("ls")
            #expect(!after.output.contains("final.mov"), "ls after del: \(after.output)")

            let refused = try await smbclient("ls", password: "wrong-password")
            #expect(refused.status != 0 && (refused.output + refused.errors).contains("NT_STATUS_LOGON_FAILURE"), "a wrong password: \(refused.output)\(refused.errors)")
            // Bound to the link's address only: loopback on the server's host is not served.
            let loopback = try await smbclient("ls", host: "127.0.0.1")
            #expect(loopback.status != 0 && (loopback.output + loopback.errors).contains("NT_STATUS_CONNECTION_REFUSED"), "loopback: \(loopback.output)\(loopback.errors)")
        }
    }

    /// SIGTERM to smbd (the pid `share smb` became), then SIGKILL to it and to any helper it
    /// started (samba-dcerpcd and its workers name the state directory's configuration).
    static func stop(_ server: Int32, stateDirectory: String) {
        kill(server, SIGTERM)
        LocalProcess.waitUntilGone(server, polls: 500)
        kill(server, SIGKILL)
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        for pid in pids where pid != getpid() {
            guard let commandLine = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { continue }
            if String(decoding: commandLine, as: UTF8.self).contains(stateDirectory) { LocalProcess.killAndWait(pid, polls: 300) }
        }
    }
}
