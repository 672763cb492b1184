import Foundation
import RadonMount
import Testing

/// The POSIX conformance script (Conformance/posix_conformance.py) run once on ext4 under /tmp
/// and once in a RadonFS mount, record by record: every difference fails unless the allow-list
/// below names that exact field of that exact step, with the reason (README, "Differences from
/// ext4", says the same).
extension ClusterMountTests {
    /// A difference tolerated: the step's label and the field that differs, as a path into the
    /// record (`outcome`, `value`, or `paths.<path>.<field>`).
    struct AllowedDifference: Hashable {
        var step: String
        var field: String
    }

    static let allowedDifferences: [AllowedDifference: String] = {
        let noAtime = "the mount does not update atime on read, readdir or readlink (as noatime: it would cost a metadata write per read); utimensat sets it"
        let fuseSetgid = """
            without HANDLE_KILLPRIV the FUSE kernel module clears S_ISGID on write only when group execute is set; \
            ext4 on this kernel (setattr_should_drop_sgid) also clears it for a writer outside the file's group
            """
        return [
            AllowedDifference(step: "read", field: "paths.a/f.atime"): noAtime,
            AllowedDifference(step: "list", field: "paths.a.atime"): noAtime,
            AllowedDifference(step: "readlink", field: "paths.a/s.atime"): noAtime,
            AllowedDifference(step: "chown through a symlink", field: "paths.a/s.atime"): noAtime,
            AllowedDifference(step: "list without write", field: "paths.p.atime"): noAtime,
            AllowedDifference(step: "list names that are not UTF-8", field: "paths.n.atime"): noAtime,
            AllowedDifference(step: "write by a non-member to a setgid file without group execute", field: "paths.k/s2.mode"): fuseSetgid,
        ]
    }()

    static let conformanceScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Conformance/posix_conformance.py").path

    @Test("POSIX conformance: the same calls on ext4 and in the mount give the same records")
    func conformanceMatchesExt4() async throws {
        try await withCluster { directory, _, _ in
            let ext4 = "/tmp/radonfs-conformance-\(UUID().uuidString.prefix(8))"
            defer { _ = try? FileManager.default.removeItem(atPath: ext4) }
            let reference = try await Shell.check("conformance on ext4", """
                mkdir -m 755 '\(ext4)' && python3 '\(Self.conformanceScript)' '\(ext4)'
                """)
            // A mount of its own with no kernel caching, so every stat reaches the file system.
            let fresh = directory + "/mnt-conformance"
            try await Shell.check("mount without caches", """
                chmod 755 '\(directory)'; mkdir -p '\(fresh)'
                '\(Self.radonfs)' mount --dir '\(directory)' -o attr_timeout=0,entry_timeout=0 --log-file '\(directory)/conformance-mount.log' '\(fresh)'
                """)
            let measured: String
            do {
                measured = try await Shell.check("conformance in the mount", """
                    mkdir -m 755 '\(fresh)/conformance' && python3 '\(Self.conformanceScript)' '\(fresh)/conformance'
                    """)
            } catch {
                _ = try? await Shell.run("'\(Self.radonfs)' umount --lazy '\(fresh)'")
                throw error
            }
            try await Shell.check("umount", "'\(Self.radonfs)' umount '\(fresh)'")
            try Self.compare(reference: reference, measured: measured)
        }
    }

    /// Fails for every field that differs and is not allowed; both lists must have the same steps.
    static func compare(reference: String, measured: String) throws {
        func records(_ text: String) throws -> [[String: Any]] {
            try text.split(separator: "\n").map { line in
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            }
        }
        let expected = try records(reference)
        let actual = try records(measured)
        #expect(expected.count == actual.count, "ext4 ran \(expected.count) steps, the mount \(actual.count)")
        #expect(expected.count > 150, "the script stopped early on ext4")
        var used: Set<AllowedDifference> = []
        for (left, right) in zip(expected, actual) {
            let step = left["label"] as? String ?? "?"
            for field in differences(left, right, prefix: "") {
                let key = AllowedDifference(step: step, field: field)
                if allowedDifferences[key] != nil {
                    used.insert(key)
                    continue
                }
                Issue.record("""
                    step \(left["step"] ?? "?") "\(step)": \(field) differs
                      ext4:    \(describe(left))
                      RadonFS: \(describe(right))
                    """)
            }
        }
        // An allowance nothing needs any more is stale: the README must lose it too.
        for unused in Set(allowedDifferences.keys).subtracting(used) {
            Issue.record("allowed difference no longer seen: \(unused.step) / \(unused.field)")
        }
    }

    /// The fields (dotted paths, descending into `paths`) where two records differ.
    static func differences(_ left: [String: Any], _ right: [String: Any], prefix: String) -> [String] {
        var fields: [String] = []
        for key in Set(left.keys).union(right.keys).sorted() {
            let name = prefix + key
            if let l = left[key] as? [String: Any], let r = right[key] as? [String: Any] {
                fields += differences(l, r, prefix: name + ".")
            } else if canonical(left[key]) != canonical(right[key]) {
                fields.append(name)
            }
        }
        return fields
    }

    /// A value as sorted-key JSON, so values of any JSON type compare as text.
    static func canonical(_ value: Any?) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }

    static func describe(_ record: [String: Any]) -> String {
        let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\(record)"
    }
}
