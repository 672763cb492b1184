import Foundation

/// The expected contents of one flat directory under a storm of creates, renames and unlinks:
/// names and what each file holds. A test applies to the model exactly the operations whose
/// system calls succeeded, then compares it with what a mount lists and reads
/// (`differences(from:)`): after any number of failovers nothing may be lost, duplicated or
/// left behind. With idempotent retries a succeeded call happened exactly once, so the model
/// needs no notion of "maybe".
public struct NamespaceModel: Sendable, Equatable {
    /// Name -> the bytes the file holds.
    public private(set) var files: [String: [UInt8]] = [:]

    public init() {}

    /// A create (O_CREAT | O_EXCL) and write of `contents` succeeded.
    public mutating func created(_ name: String, contents: [UInt8]) {
        files[name] = contents
    }

    /// rename(2) succeeded: `to` now holds what `from` held, replacing whatever was there.
    public mutating func renamed(_ from: String, to: String) {
        guard from != to, let contents = files.removeValue(forKey: from) else { return }
        files[to] = contents
    }

    /// unlink(2) succeeded.
    public mutating func unlinked(_ name: String) {
        files.removeValue(forKey: name)
    }

    /// What `directory` holds that the model does not say, one line each (empty: equal). Hidden
    /// names (a leading dot: probes, fio's files) are not compared.
    public func differences(from directory: String) throws -> [String] {
        let listed = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }
        var problems: [String] = []
        if listed.count != Set(listed).count { problems.append("duplicate names in the listing: \(listed.count) names, \(Set(listed).count) distinct") }
        for name in Set(listed).subtracting(files.keys).sorted() { problems.append("\(name): listed, not in the model") }
        for name in Set(files.keys).subtracting(listed).sorted() { problems.append("\(name): in the model, not listed (lost)") }
        for name in Set(files.keys).intersection(listed).sorted() {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else {
                problems.append("\(name): listed but unreadable")
                continue
            }
            if [UInt8](data) != files[name] { problems.append("\(name): \(data.count) bytes differ from the model's \(files[name]?.count ?? 0)") }
        }
        return problems
    }
}

extension LocalCluster {
    /// One more mount of this cluster at `mountPoint` (`radonfs mount --dir`), as another
    /// client machine would have; `unmount(_:)` takes it away (`killEverything` does not).
    public func mountAgain(at mountPoint: String) throws {
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try run(["mount", "--dir", directory, "--log-file", "\(mountPoint).log", mountPoint])
    }

    /// Lazily unmounts a mount made by `mountAgain(at:)`.
    public func unmount(_ mountPoint: String) {
        _ = try? run(["umount", "--lazy", mountPoint], allowFailure: true)
    }
}
