import Foundation
import RadonTestSupport
import Testing

/// The unit files of deploy/systemd, checked by systemd itself.
struct SystemdUnitTests {
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    @Test("systemd-analyze verify accepts every unit of deploy/systemd",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                   "systemd-analyze is missing (Debian's systemd package; scripts/install-dependencies.sh --test installs it)"))
    func unitsVerify() throws {
        let source = Self.repository.appendingPathComponent("deploy/systemd").path
        let units = try FileManager.default.contentsOfDirectory(atPath: source).filter { $0.hasSuffix(".service") }.sorted()
        #expect(units == ["radonfs-meta.service", "radonfs-mount.service", "radonfs-storage@.service"])
        // verify checks that ExecStart's program exists: point it at this checkout's binary, and
        // give the template an instance name.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-units-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var paths: [String] = []
        for unit in units {
            let text = try String(contentsOfFile: "\(source)/\(unit)", encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/local/bin/radonfs "), "\(unit)")
            #expect(text.contains("--config /etc/radonfs/"), "\(unit) does not read a config file")
            #expect(text.contains("After=network-online.target"), "\(unit)")
            #expect(text.contains("Restart=on-failure"), "\(unit)")
            let path = "\(directory)/\(unit.replacingOccurrences(of: "@.service", with: "@node1.service"))"
            try text.replacingOccurrences(of: "/usr/local/bin/radonfs", with: RadonBinary.path).write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let (status, output) = try LocalProcess.output("/usr/bin/systemd-analyze", ["verify", "--man=no"] + paths)
        // verify exits 0 on some mistakes (an unknown Restart= value is "ignoring"): any word
        // from it is a failure.
        #expect(status == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(output)")
    }
}
