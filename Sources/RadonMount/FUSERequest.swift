import CFUSE3
import Glibc
import RadonClient
import RadonWire

/// One kernel request, carried from the libfuse worker thread that received it to the task that
/// answers it. libfuse lets a request be answered from any thread, exactly once; the pointer is
/// kept as its bit pattern so the value is plainly `Sendable`.
struct FUSERequest: Sendable {
    private let address: UInt

    init(_ request: fuse_req_t) {
        address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(request)))
    }

    var raw: fuse_req_t { OpaquePointer(bitPattern: address)! }

    /// The caller's identity with its supplementary groups, read while the request is live.
    ///
    /// Must be read on the libfuse thread in the callback, before the request is handed off:
    /// `fuse_req_getgroups` reads /proc/PID/task/PID/status of the caller, which may have
    /// changed its groups (or exited) by the time a task runs. Root's groups are not read:
    /// uid 0 passes every check, so its requests skip the /proc read.
    var context: RequestContext {
        guard let context = fuse_req_ctx(raw) else { return .root }
        let uid = context.pointee.uid
        let groups = uid == 0 ? [] : supplementaryGroups
        return RequestContext(uid: uid, gid: context.pointee.gid, groups: groups, pid: context.pointee.pid)
    }

    /// The caller's supplementary groups (empty when the kernel or /proc cannot tell).
    private var supplementaryGroups: [UInt32] {
        var groups = [gid_t](repeating: 0, count: 32)
        var count = fuse_req_getgroups(raw, Int32(groups.count), &groups)
        if count > Int32(groups.count) {
            // More than the first guess: the return value is the full count.
            groups = [gid_t](repeating: 0, count: Int(count))
            count = fuse_req_getgroups(raw, Int32(groups.count), &groups)
        }
        guard count > 0 else { return [] }
        return Array(groups.prefix(Int(min(count, Int32(groups.count)))))
    }

    func replyError(_ errorNumber: Int32) {
        fuse_reply_err(raw, errorNumber)
    }

    func replyOK() {
        fuse_reply_err(raw, 0)
    }

    func replyNone() {
        fuse_reply_none(raw)
    }

    func replyEntry(_ attributes: InodeAttributes, timeouts: CacheTimeouts) {
        var entry = attributes.entryParameters(timeouts: timeouts)
        fuse_reply_entry(raw, &entry)
    }

    func replyAttributes(_ attributes: InodeAttributes, timeout: Double) {
        var status = attributes.statBuffer
        fuse_reply_attr(raw, &status, timeout)
    }

    func replyBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                _ = fuse_reply_buf(raw, characters.baseAddress, characters.count)
            }
        }
    }
}

/// The cache lifetimes every entry and attribute reply carries.
struct CacheTimeouts: Sendable {
    var attributes: Double
    var entries: Double

    /// These timeouts, cut to `trust` where that is shorter: an answer that was not fresh is
    /// not kept by the kernel past the time the client may trust it (nil: fresh).
    func trusting(for trust: Duration?) -> CacheTimeouts {
        guard let trust else { return self }
        let seconds = max(trust.seconds, 0)
        return CacheTimeouts(attributes: min(attributes, seconds), entries: min(entries, seconds))
    }
}

/// What the C callbacks copy out of a `fuse_file_info` before returning (the pointer dies then).
struct OpenFileInfo: Sendable {
    var flags: Int32
    var handle: UInt64
    /// The kernel's lock owner: in flush, getlk, setlk, flock, and release with `releasesFlock`.
    var lockOwner: UInt64
    /// release: the file description used flock, whose locks (owner `lockOwner`) go now.
    var releasesFlock: Bool

    init(_ info: UnsafeMutablePointer<fuse_file_info>?) {
        flags = info?.pointee.flags ?? 0
        handle = info?.pointee.fh ?? 0
        lockOwner = info?.pointee.lock_owner ?? 0
        releasesFlock = (info?.pointee.flock_release ?? 0) != 0
    }

    var fileHandle: FileHandle { FileHandle(rawValue: handle) }

    /// The open(2) flags the core acts upon.
    var openFlags: OpenFlags {
        let access = flags & O_ACCMODE
        return OpenFlags(
            read: access == O_RDONLY || access == O_RDWR,
            write: access == O_WRONLY || access == O_RDWR,
            append: flags & O_APPEND != 0,
            truncate: flags & O_TRUNC != 0
        )
    }

    /// A reply record for open/create/opendir: the handle, page cache dropped on every open so a
    /// reader sees what other mounts wrote before they closed (close-to-open).
    static func reply(handle: UInt64) -> fuse_file_info {
        var info = fuse_file_info()
        info.fh = handle
        info.keep_cache = 0
        info.direct_io = 0
        return info
    }
}
