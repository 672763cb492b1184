import RadonWire

/// One row of the `inode` table as the store works on it (without its inline bytes or symlink
/// target, which only the operations that need them read).
struct InodeRecord: Sendable {
    var id: UInt64
    var kind: InodeKind
    var permissions: UInt32
    var uid: UInt32
    var gid: UInt32
    var rdev: UInt64
    var size: UInt64
    /// Times in nanoseconds since the epoch.
    var accessTime: Int64
    var modificationTime: Int64
    var changeTime: Int64
    var linkCount: UInt32
    var generation: UInt64
    /// For a directory, the directory holding it (the root's is itself); for a regular file,
    /// the directory it was created in or last renamed into (its quotas are charged there; nil
    /// for files older than that, until a quota above them is set).
    var parent: UInt64?
    var volumeID: UInt32?
    var groupID: UInt32?
    var isInline: Bool
    /// Bytes of the file's blocks that were ever written (`block_map`); nil for a file that has
    /// no map (written before the map existed, or never written): its size then counts.
    var allocatedBytes: UInt64?

    /// The columns `init(row:at:)` reads, in order; `table` qualifies them for joins.
    static func columns(of table: String = "inode") -> String {
        ["id", "kind", "permissions", "uid", "gid", "rdev", "size", "atime", "mtime", "ctime", "nlink",
         "generation", "parent", "volume_id", "group_id"].map { "\(table).\($0)" }.joined(separator: ", ")
            + ", \(table).inline_data IS NOT NULL"
            + ", (SELECT allocated FROM block_map WHERE block_map.inode = \(table).id)"
    }

    static let columns = columns()
    /// How many columns `columns(of:)` names.
    static let columnCount = 17

    /// Reads the `columns` starting at column `first` of `row`.
    init(row: SQLRow, at first: Int = 0) throws {
        let rawKind: UInt8 = row[first + 1]
        guard let kind = InodeKind(rawValue: rawKind) else {
            throw WireError(.corrupt, "inode \(row[first] as Int64) has unknown kind \(rawKind)")
        }
        id = row[first]
        self.kind = kind
        permissions = row[first + 2]
        uid = row[first + 3]
        gid = row[first + 4]
        rdev = row[first + 5]
        size = row[first + 6]
        accessTime = row[first + 7]
        modificationTime = row[first + 8]
        changeTime = row[first + 9]
        linkCount = row[first + 10]
        generation = row[first + 11]
        parent = row[first + 12]
        volumeID = row[first + 13]
        groupID = row[first + 14]
        isInline = row[first + 15]
        allocatedBytes = row[first + 16]
    }

    init(id: UInt64, kind: InodeKind, permissions: UInt32, uid: UInt32, gid: UInt32, rdev: UInt64, now: Int64, linkCount: UInt32, parent: UInt64?, volumeID: UInt32?) {
        self.id = id
        self.kind = kind
        self.permissions = permissions & 0o7777
        self.uid = uid
        self.gid = gid
        self.rdev = rdev
        size = 0
        accessTime = now
        modificationTime = now
        changeTime = now
        self.linkCount = linkCount
        generation = 1
        self.parent = parent
        self.volumeID = volumeID
        groupID = nil
        isInline = false
    }

    var isDirectory: Bool { kind == .directory }

    var attributes: InodeAttributes {
        InodeAttributes(
            inode: id, kind: kind, permissions: permissions, linkCount: linkCount, uid: uid, gid: gid,
            rdev: rdev, size: size, accessTime: Timestamp(nanoseconds: accessTime),
            modificationTime: Timestamp(nanoseconds: modificationTime),
            changeTime: Timestamp(nanoseconds: changeTime), generation: generation,
            allocatedBytes: kind == .regular && !isInline ? min(allocatedBytes ?? size, size) : size
        )
    }

    /// Marks a change of the inode itself (ctime and generation), as POSIX asks of every
    /// metadata change.
    mutating func touchChange(_ now: Int64) {
        changeTime = now
        generation &+= 1
    }

    /// A change of content (a directory's entries, a file's bytes): mtime and ctime.
    mutating func touchContent(_ now: Int64) {
        modificationTime = now
        touchChange(now)
    }
}

extension Timestamp {
    /// The wall clock now.
    static func now() -> Timestamp {
        let instant = WallClock.now()
        return Timestamp(seconds: instant.seconds, nanoseconds: instant.nanoseconds)
    }

    init(nanoseconds total: Int64) {
        let (seconds, remainder) = total.quotientAndRemainder(dividingBy: 1_000_000_000)
        if remainder < 0 {
            self.init(seconds: seconds - 1, nanoseconds: UInt32(remainder + 1_000_000_000))
        } else {
            self.init(seconds: seconds, nanoseconds: UInt32(remainder))
        }
    }

    /// Nanoseconds since the epoch, clamped to what an Int64 holds (years 1677 to 2262).
    var totalNanoseconds: Int64 {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = product.addingReportingOverflow(Int64(nanoseconds))
        return overflow2 ? .max : sum
    }

    /// Seconds as a floating-point number, for liveness arithmetic.
    var secondsSinceEpoch: Double { Double(seconds) + Double(nanoseconds) / 1e9 }
}

extension InodeRecord {
    /// Self, which must be a directory (ENOTDIR otherwise).
    func requireDirectory() throws -> InodeRecord {
        guard isDirectory else { throw FileSystemError.notDirectory("inode \(id) is not a directory") }
        return self
    }
}
