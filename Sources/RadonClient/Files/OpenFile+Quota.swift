#if canImport(Glibc)
import Glibc
#endif

/// Directory quotas on the write path: a write that grows the file past what the quotas above
/// it allowed at open fails with EDQUOT at once, as on a local disk, instead of at close.
///
/// The open says how much the file may grow (`OpenFileReply.quotaHeadroom`); writes within
/// that cost nothing. Past it, the file publishes what it holds and asks the service again
/// (other files may have shrunk meanwhile). The service enforces the quota again when the size
/// is published, so two clients growing files under one quota at once cannot both overrun it.
extension OpenFile {
    /// Takes the headroom an open reported, measured from the file's size then.
    func setQuotaHeadroom(_ headroom: UInt64?, from size: UInt64) {
        quotaLimit = headroom.map { size.addingReportingOverflow($0).overflow ? .max : size + $0 }
    }

    /// Makes sure the file may grow to `end`: publishes, asks the quotas again, and throws
    /// EDQUOT when they still have no room.
    func requireQuotaRoom(upTo end: UInt64) async throws {
        try await flush()
        let base = publishedSize ?? size
        let headroom = try await metadata.quotaHeadroom(inode)
        setQuotaHeadroom(headroom == .max ? nil : headroom, from: base)
        if let quotaLimit, end > max(base, quotaLimit) {
            throw FileSystemError(EDQUOT, "a directory quota above inode \(inode) has room for \(quotaLimit - min(quotaLimit, base)) more bytes")
        }
    }
}
