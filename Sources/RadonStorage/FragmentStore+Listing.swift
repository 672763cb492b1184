#if canImport(Glibc)
import Glibc
#endif
import RadonWire

extension FragmentStore {
    /// Removes every fragment file of `inode` in `group`; returns how many there were.
    public func deleteFile(group: UInt32, inode: UInt64) async throws -> UInt32 {
        try await onIOThread {
            let groupPath = self.groupDirectory(group)
            var removed: UInt32 = 0
            var removedPrevious = false
            for index in UInt8.min...UInt8.max {
                let file = FragmentFileKey(group: group, inode: inode, fragmentIndex: index)
                let path = self.path(of: file)
                if unlink(path) == 0 {
                    removed += 1
                } else if errno != ENOENT {
                    throw POSIXFile.error("unlink", path)
                }
                let previousPath = self.previousPath(of: file)
                if unlink(previousPath) == 0 {
                    removedPrevious = true
                } else if errno != ENOENT {
                    throw POSIXFile.error("unlink", previousPath)
                }
            }
            if removedPrevious, removed == 0 {
                try POSIXFile.synchronizeDirectory(groupPath)
            }
            if removed > 0 {
                self.filesRemoved(Int(removed))
                try POSIXFile.synchronizeDirectory(groupPath)
            }
            return removed
        }
    }

    /// Drops every slot from `blockCount` on in every fragment file of `inode` in `group`, durably.
    public func truncate(group: UInt32, inode: UInt64, blockCount: UInt64) async throws {
        try await onIOThread {
            let files = (UInt8.min...UInt8.max).map { FragmentFileKey(group: group, inode: inode, fragmentIndex: $0) }
            // Previous copies too: a block past the cut must not come back as a fallback.
            for (path, previous) in files.map({ (self.path(of: $0), false) }) + files.map({ (self.previousPath(of: $0), true) }) {
                guard let handle = try POSIXFile.openIfExists(path, flags: O_RDWR) else { continue }
                guard let layout = try Self.header(of: handle) else {
                    throw WireError(.corrupt, "\(path) has no valid header; it cannot be truncated")
                }
                guard let end = layout.offset(ofBlock: blockCount, previous: previous) else { continue }
                if try handle.size > end {
                    try handle.truncate(to: end)
                    try handle.synchronize()
                }
            }
        }
    }

    /// The fragment files of `group` in (inode, fragment index) order, after `after`, at most
    /// `limit`; and whether more follow. A file whose header is unreadable is listed with
    /// capacity 0 and no blocks, so scrub finds it.
    public func listFiles(group: UInt32, after: FragmentFileKey?, limit: Int) async throws -> (files: [FragmentFileInfo], hasMore: Bool) {
        try await onIOThread {
            let names = try Self.directoryEntries(self.groupDirectory(group))
            var keys: [(inode: UInt64, index: UInt8)] = names.compactMap(Self.parseFragmentFileName)
            keys.sort { ($0.inode, $0.index) < ($1.inode, $1.index) }
            if let after {
                keys.removeAll { ($0.inode, $0.index) <= (after.inode, after.fragmentIndex) }
            }
            let page = keys.prefix(max(limit, 1))
            var files: [FragmentFileInfo] = []
            files.reserveCapacity(page.count)
            for key in page {
                let path = self.path(of: FragmentFileKey(group: group, inode: key.inode, fragmentIndex: key.index))
                guard let handle = try POSIXFile.openIfExists(path, flags: O_RDONLY) else { continue }
                if let layout = try Self.header(of: handle) {
                    files.append(FragmentFileInfo(
                        inode: key.inode, fragmentIndex: key.index,
                        blockCount: layout.blockCount(fileSize: try handle.size), fragmentCapacity: layout.fragmentCapacity
                    ))
                } else {
                    files.append(FragmentFileInfo(inode: key.inode, fragmentIndex: key.index, blockCount: 0, fragmentCapacity: 0))
                }
            }
            return (files, keys.count > page.count)
        }
    }

    /// The placement groups that have a directory in the store.
    public func listGroups() async throws -> [UInt32] {
        try await onIOThread { try Self.groups(in: self.directory) }
    }

    /// Capacity and free space of the file system holding the store, and its counts.
    public func status() async throws -> (capacityBytes: UInt64, freeBytes: UInt64, fragmentFiles: Int, groups: Int) {
        try await onIOThread {
            var info = statvfs()
            guard statvfs(self.directory, &info) == 0 else { throw POSIXFile.error("statvfs", self.directory) }
            let unit = UInt64(info.f_frsize)
            return (UInt64(info.f_blocks) * unit, UInt64(info.f_bavail) * unit, self.fragmentFileCount, try Self.groups(in: self.directory).count)
        }
    }

    static func header(of handle: POSIXFile) throws -> FragmentFileHeader? {
        var bytes = [UInt8](repeating: 0, count: FragmentFileHeader.length)
        let count = try bytes.withUnsafeMutableBytes { try handle.read(into: $0, at: 0) }
        return count == bytes.count ? FragmentFileHeader(bytes) : nil
    }

    static func groups(in directory: String) throws -> [UInt32] {
        try directoryEntries(directory).compactMap { name in
            name.hasPrefix("g") ? UInt32(name.dropFirst()) : nil
        }.sorted()
    }

    static func countFragmentFiles(in directory: String) throws -> Int {
        try groups(in: directory).reduce(0) { count, group in
            count + (try directoryEntries("\(directory)/g\(group)").lazy.compactMap(parseFragmentFileName).count)
        }
    }

    /// `<inode>.<fragmentIndex>`, both decimal.
    static func parseFragmentFileName(_ name: String) -> (inode: UInt64, index: UInt8)? {
        guard let dot = name.firstIndex(of: "."),
              let inode = UInt64(name[..<dot]), let index = UInt8(name[name.index(after: dot)...])
        else { return nil }
        return (inode, index)
    }

    /// The names in `path` (without `.` and `..`); empty when it does not exist.
    static func directoryEntries(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return [] }
            throw POSIXFile.error("opendir", path)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }
}
