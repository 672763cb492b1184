import CFUSE3
import Glibc
import RadonClient

/// Requests on an inode's attributes, and statfs.
extension MountDispatcher {
    func getAttributes(_ request: FUSERequest, inode: UInt64) {
        serve(request, "getattr", staleWhenMissing: true) { [self] in
            let attributes = try await fileSystem.attributes(of: inode)
            logger.trace("getattr \(inode): size \(attributes.size)")
            request.replyAttributes(attributes, timeout: timeouts.attributes)
        }
    }

    /// setattr: chmod, chown, truncate and utimens (with UTIME_NOW) in one request.
    func setAttributes(_ request: FUSERequest, inode: UInt64, new: stat, fields: Int32, info: OpenFileInfo?) {
        let context = request.context
        var changes = AttributeChanges()
        if fields & FUSE_SET_ATTR_MODE != 0 { changes.permissions = new.st_mode & 0o7777 }
        if fields & FUSE_SET_ATTR_UID != 0 { changes.uid = new.st_uid }
        if fields & FUSE_SET_ATTR_GID != 0 { changes.gid = new.st_gid }
        if fields & FUSE_SET_ATTR_SIZE != 0 { changes.size = UInt64(max(0, new.st_size)) }
        if fields & FUSE_SET_ATTR_ATIME_NOW != 0 {
            changes.accessTime = .now
        } else if fields & FUSE_SET_ATTR_ATIME != 0 {
            changes.accessTime = .at(Timestamp(posixTime: new.st_atim))
        }
        if fields & FUSE_SET_ATTR_MTIME_NOW != 0 {
            changes.modificationTime = .now
        } else if fields & FUSE_SET_ATTR_MTIME != 0 {
            changes.modificationTime = .at(Timestamp(posixTime: new.st_mtim))
        }
        let handle = info.map(\.fileHandle)
        let requested = changes
        serve(request, "setattr", staleWhenMissing: true) { [self] in
            let attributes = try await fileSystem.setAttributes(of: inode, requested, handle: handle, context: context)
            logger.trace("setattr \(inode) \(requested): size \(attributes.size)")
            request.replyAttributes(attributes, timeout: timeouts.attributes)
        }
    }

    /// access(2). With `default_permissions` the kernel checks permissions itself and does not
    /// ask; this answers the same way from the attributes for kernels or callers that do ask.
    func checkAccess(_ request: FUSERequest, inode: UInt64, mask: Int32) {
        let context = request.context
        serve(request, "access", staleWhenMissing: true) { [self] in
            let attributes = try await fileSystem.attributes(of: inode)
            guard attributes.permits(mask: mask, for: context) else { throw FileSystemError.permissionDenied() }
            request.replyOK()
        }
    }

    /// statfs of the file system as seen from `inode` (the mount's root, mostly): the
    /// directory quotas above it stand for its size and inode count.
    func statistics(_ request: FUSERequest, inode: UInt64) {
        serve(request, "statfs") { [self] in
            let statistics = try await fileSystem.statistics(of: inode)
            var buffer = statvfs()
            buffer.f_bsize = UInt(statistics.blockSize)
            buffer.f_frsize = UInt(statistics.blockSize)
            buffer.f_blocks = UInt(statistics.totalBlocks)
            buffer.f_bfree = UInt(statistics.freeBlocks)
            buffer.f_bavail = UInt(statistics.availableBlocks)
            buffer.f_files = UInt(statistics.totalInodes)
            buffer.f_ffree = UInt(statistics.freeInodes)
            buffer.f_favail = UInt(statistics.freeInodes)
            buffer.f_namemax = UInt(statistics.maximumNameLength)
            fuse_reply_statfs(request.raw, &buffer)
        }
    }
}

extension InodeAttributes {
    /// Whether `context` may access this inode for `mask` (R_OK, W_OK, X_OK bits), as POSIX
    /// mode bits say; root passes except for execute on a file nobody may execute.
    func permits(mask: Int32, for context: RequestContext) -> Bool {
        let wanted = UInt32(mask & (R_OK | W_OK | X_OK))
        if wanted == 0 { return true }
        if context.uid == 0 {
            return wanted & UInt32(X_OK) == 0 || kind == .directory || permissions & 0o111 != 0
        }
        let granted: UInt32
        if context.uid == uid {
            granted = (permissions >> 6) & 7
        } else if context.gid == gid || context.groups.contains(gid) {
            granted = (permissions >> 3) & 7
        } else {
            granted = permissions & 7
        }
        return granted & wanted == wanted
    }
}
