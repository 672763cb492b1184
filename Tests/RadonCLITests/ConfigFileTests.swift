import ArgumentParser
import Foundation
@testable import RadonCLI
import RadonClient
import Testing

/// `--config FILE`: the TOML file's keys become the real commands' options, checked against what
/// `radonfs` itself accepts, with the command line winning.
struct ConfigFileTests {
    /// Writes `text` to a fresh file, expands `commandLine` + `--config FILE` as `radonfs` does,
    /// and parses the result with the real command tree.
    static func parse(_ commandLine: [String], config text: String) throws -> (any ParsableCommand, path: String) {
        let path = NSTemporaryDirectory() + "radonfs-config-test-\(UUID().uuidString).toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (arguments, _) = try ConfigFile.expand(commandLine + ["--config", path], root: RadonFSCommand.self)
        return (try RadonFSCommand.parseAsRoot(arguments), path)
    }

    /// The error text `radonfs` would print for `commandLine` with the file `text`.
    static func failure(_ commandLine: [String], config text: String) -> String {
        let path = NSTemporaryDirectory() + "radonfs-config-test-\(UUID().uuidString).toml"
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let (arguments, file) = try ConfigFile.expand(commandLine + ["--config", path], root: RadonFSCommand.self)
            do {
                _ = try RadonFSCommand.parseAsRoot(arguments)
            } catch {
                return RadonFSCommand.message(for: file.map { RadonFSCommand.blame(error, on: $0) } ?? error)
                    .replacingOccurrences(of: path, with: "FILE")
            }
            return "no error"
        } catch {
            return "\(error)".replacingOccurrences(of: path, with: "FILE")
        }
    }

    static let storage = """
        dir = "/var/lib/radonfs/storage"
        listen = "0.0.0.0:7500"
        insecure = true
        key-file = "/etc/radonfs/cluster.key"
        """

    @Test func theFileGivesEveryOptionOfTheCommand() throws {
        let (command, _) = try Self.parse(["storage"], config: Self.storage + "\nheartbeat = 3\nhost-id = \"rack1-a\"\n")
        let storage = try #require(command as? StorageCommand)
        #expect(storage.dir == "/var/lib/radonfs/storage")
        #expect(storage.listen == ["0.0.0.0:7500"])
        #expect(storage.security.insecure)
        #expect(storage.security.keyFile == "/etc/radonfs/cluster.key")
        #expect(storage.heartbeat == 3)
        #expect(storage.hostID == "rack1-a")
    }

    @Test func aFlagOnTheCommandLineOverridesTheFile() throws {
        let (command, _) = try Self.parse(["storage", "--listen", "127.0.0.1:7600", "--heartbeat=5"], config: Self.storage + "\nheartbeat = 3\n")
        let storage = try #require(command as? StorageCommand)
        #expect(storage.listen == ["127.0.0.1:7600"])
        #expect(storage.heartbeat == 5)
        #expect(storage.dir == "/var/lib/radonfs/storage")
    }

    @Test func aStorageNodeWithTwoPortsListsTwoListenAndAdvertiseAddresses() throws {
        let (command, _) = try Self.parse(["storage"], config: """
            dir = "/var/lib/radonfs/storage"
            listen = ["10.0.1.11:7500", "10.0.2.11:7500"]
            advertise = ["node1-a.example:7500", "node1-b.example:7500"]
            insecure = true
            key-file = "/etc/radonfs/cluster.key"
            """)
        let storage = try #require(command as? StorageCommand)
        #expect(StorageCommand.addresses(storage.listen) == [WireAddress(host: "10.0.1.11", port: 7500), WireAddress(host: "10.0.2.11", port: 7500)])
        #expect(StorageCommand.addresses(storage.advertise)?.map(\.host) == ["node1-a.example", "node1-b.example"])
    }

    @Test func theDefaultSubcommandReadsTheFileToo() throws {
        let (command, _) = try Self.parse(["meta"], config: """
            db = "/var/lib/radonfs/meta.db"
            listen = "0.0.0.0:7400"
            advertise = "meta1.example:7400"
            tls-dir = "/etc/radonfs/tls"
            identity = "meta"
            no-console = true
            """)
        let meta = try #require(command as? MetaServeCommand)
        #expect(meta.listen == "0.0.0.0:7400")
        #expect(meta.advertise == "meta1.example:7400")
        #expect(meta.security.identity == "meta")
        #expect(meta.console.disabled)
    }

    @Test func anArrayJoinsIntoACommaListOrRepeatsARepeatingOption() throws {
        let mountPoint = NSTemporaryDirectory()
        let (command, _) = try Self.parse(["mount"], config: """
            meta = ["10.0.0.1:7400", "10.0.0.2:7400"]
            insecure = true
            key-file = "/etc/radonfs/cluster.key"
            o = ["allow_other", "ro"]
            foreground = true
            mountpoint = "\(mountPoint)"
            """)
        let mount = try #require(command as? MountCommand)
        #expect(mount.cluster.meta == "10.0.0.1:7400,10.0.0.2:7400")
        #expect(mount.mountOptions == ["allow_other", "ro"])
        #expect(mount.foreground)
        #expect(mount.mountPoint == mountPoint)
    }

    @Test func theCommandLinesValuesReplaceTheFilesArray() throws {
        let (command, _) = try Self.parse(["mount", "-o", "noatime", "/mnt/other"], config: """
            meta = ["10.0.0.1:7400"]
            insecure = true
            key-file = "/etc/radonfs/cluster.key"
            o = ["allow_other", "ro"]
            mountpoint = "/mnt/radon"
            """)
        let mount = try #require(command as? MountCommand)
        #expect(mount.mountOptions == ["noatime"])
        #expect(mount.mountPoint == "/mnt/other")
    }

    @Test func falseLeavesAFlagOut() throws {
        let (command, _) = try Self.parse(["storage", "--insecure"], config: Self.storage.replacingOccurrences(of: "insecure = true", with: "insecure = false"))
        #expect((command as? StorageCommand)?.security.insecure == true)
        let (alone, _) = try Self.parse(["mount", "/mnt"], config: "foreground = false\nmeta = \"a:1\"\ninsecure = true\nkey-file = \"/k\"")
        #expect((alone as? MountCommand)?.foreground == false)
    }

    @Test func numbersAreIntegersOrFloats() throws {
        let (command, _) = try Self.parse(["meta"], config: """
            db = "/tmp/m.db"
            insecure = true
            key-file = "/k"
            lease = 2.5
            down-after = 4
            """)
        let meta = try #require(command as? MetaServeCommand)
        #expect(meta.lease == 2.5)
        #expect(meta.downAfter == 4)
    }

    @Test func anUnknownKeyNamesTheFileAndTheKey() {
        let message = Self.failure(["storage"], config: Self.storage + "\nlisten-on = \"x:1\"\n")
        #expect(message.contains("FILE: unknown key \"listen-on\""), "\(message)")
        #expect(message.contains("radonfs storage"), "\(message)")
        let help = Self.failure(["storage"], config: "help = true")
        #expect(help.contains("unknown key \"help\""), "\(help)")
    }

    @Test func aValueOfTheWrongTypeNamesTheFileAndTheKey() {
        let flag = Self.failure(["storage"], config: Self.storage.replacingOccurrences(of: "insecure = true", with: "insecure = \"yes\""))
        #expect(flag.contains("FILE: key \"insecure\": --insecure is a flag"), "\(flag)")
        let boolean = Self.failure(["storage"], config: Self.storage.replacingOccurrences(of: "listen = \"0.0.0.0:7500\"", with: "listen = true"))
        #expect(boolean.contains("FILE: key \"listen\": --listen takes a string or a number"), "\(boolean)")
        let array = Self.failure(["storage"], config: Self.storage + "\nheartbeat = [1, 2]\n")
        #expect(array.contains("FILE: key \"heartbeat\": --heartbeat takes one value, not an array"), "\(array)")
        let table = Self.failure(["storage"], config: Self.storage + "\n[heartbeat]\nx = 1\n")
        #expect(table.contains("FILE: key \"heartbeat\""), "\(table)")
        // The command's own checks, on a value the file gave, name the file and key too.
        let bad = Self.failure(["storage"], config: Self.storage.replacingOccurrences(of: "0.0.0.0:7500", with: "nowhere"))
        #expect(bad.contains("FILE: key \"listen\": --listen must be host:port"), "\(bad)")
        let number = Self.failure(["storage"], config: Self.storage + "\nheartbeat = \"often\"\n")
        #expect(number.contains("FILE: key \"heartbeat\""), "\(number)")
    }

    @Test func anUnreadableOrBrokenFileIsAClearError() {
        let missing = Self.failure(["storage", "--config", "/nonexistent/radonfs.toml"], config: "")
        #expect(missing.contains("given twice"), "\(missing)")
        do {
            _ = try ConfigFile.expand(["storage", "--config", "/nonexistent/radonfs.toml"], root: RadonFSCommand.self)
            Issue.record("a missing file was accepted")
        } catch {
            #expect("\(error)".contains("cannot read the config file /nonexistent/radonfs.toml"), "\(error)")
        }
        let broken = Self.failure(["storage"], config: "listen = \"0.0.0.0:7500")
        #expect(broken.contains("FILE, line 1"), "\(broken)")
    }
}

/// The commented example configs of deploy/config, through the real commands' option parsing.
struct DeployExampleConfigTests {
    static let examples: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("deploy/config").path
    }()

    static func parse(_ commandLine: [String], example: String) throws -> any ParsableCommand {
        let (arguments, file) = try ConfigFile.expand(commandLine + ["--config", "\(examples)/\(example)"], root: RadonFSCommand.self)
        #expect(file != nil)
        return try RadonFSCommand.parseAsRoot(arguments)
    }

    @Test func theMetaExampleIsAcceptedByRadonfsMeta() throws {
        let meta = try #require(try Self.parse(["meta"], example: "meta.toml") as? MetaServeCommand)
        #expect(meta.listen == "0.0.0.0:7400")
        #expect(meta.advertise == "meta1.example.net:7400")
        #expect(meta.security.identity == "meta")
    }

    @Test func theStorageExampleIsAcceptedByRadonfsStorage() throws {
        let storage = try #require(try Self.parse(["storage"], example: "storage-node1.toml") as? StorageCommand)
        #expect(storage.dir == "/srv/radonfs/node1")
        #expect(storage.meta == "meta1.example.net:7400")
    }

    @Test func theMountExampleIsAcceptedByRadonfsMountAsTheUnitRunsIt() throws {
        let mount = try #require(try Self.parse(["mount", "--foreground"], example: "mount.toml") as? MountCommand)
        #expect(mount.mountPoint == "/mnt/radon")
        #expect(mount.mountOptions == ["allow_other"])
        #expect(mount.foreground)
    }
}
