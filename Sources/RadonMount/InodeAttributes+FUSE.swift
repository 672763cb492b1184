import CFUSE3
import Glibc
import RadonClient

extension Timestamp {
    var posixTime: timespec { timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds)) }

    init(posixTime time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: UInt32(clamping: time.tv_nsec))
    }
}

extension InodeAttributes {
    /// Allocation unit `stat` reports; large so tools copy in big chunks.
    static let preferredIOSize = 1 << 20

    /// `struct stat` as the kernel wants it.
    var statBuffer: stat {
        var status = stat()
        status.st_ino = UInt(inode)
        status.st_mode = mode
        status.st_nlink = UInt(linkCount)
        status.st_uid = uid
        status.st_gid = gid
        status.st_rdev = UInt(rdev)
        status.st_size = Int(clamping: size)
        status.st_blksize = Self.preferredIOSize
        // The contract carries no allocated size yet: report the apparent size in 512-byte units.
        status.st_blocks = Int(clamping: (allocatedBytes + 511) / 512)
        status.st_atim = accessTime.posixTime
        status.st_mtim = modificationTime.posixTime
        status.st_ctim = changeTime.posixTime
        return status
    }

    /// A `fuse_entry_param` for lookup-like replies.
    func entryParameters(timeouts: CacheTimeouts) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = inode
        entry.generation = 0
        entry.attr = statBuffer
        entry.attr_timeout = timeouts.attributes
        entry.entry_timeout = timeouts.entries
        return entry
    }
}
