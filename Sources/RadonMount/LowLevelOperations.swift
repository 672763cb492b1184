import CFUSE3
import Glibc
import RadonClient

/// The libfuse low-level callback table.
///
/// Each callback runs on a libfuse worker thread, so none may be actor-isolated (closures
/// written as top-level code in main.swift would be MainActor-isolated and trap there): they
/// live in this nonisolated function. Each one copies what it needs out of its arguments
/// (names, buffers and `fuse_file_info` die when it returns) and hands the request to the
/// dispatcher, which answers it later from async code.
///
/// getlk, setlk and flock are implemented, so libfuse claims POSIX_LOCKS and FLOCK_LOCKS and
/// the kernel sends every lock request here: locks live in the metadata service and hold
/// across every mount of the cluster.
nonisolated func makeLowLevelOperations() -> fuse_lowlevel_ops {
    var operations = fuse_lowlevel_ops()
    operations.`init` = { userData, connection in
        guard let userData, let connection else { return }
        let dispatcher = Unmanaged<MountDispatcher>.fromOpaque(userData).takeUnretainedValue()
        dispatcher.negotiate(connection)
    }
    operations.lookup = { request, parent, name in
        named(request, name) { $0.lookup($1, parent: parent, name: $2) }
    }
    operations.forget = { request, _, _ in
        // Inodes are addressed by number in the core; the mount keeps nothing per lookup.
        fuse_reply_none(request)
    }
    operations.forget_multi = { request, _, _ in
        fuse_reply_none(request)
    }
    operations.getattr = { request, inode, _ in
        MountDispatcher.of(request).getAttributes(FUSERequest(request!), inode: inode)
    }
    operations.setattr = { request, inode, attributes, fields, info in
        let new = attributes?.pointee ?? stat()
        MountDispatcher.of(request).setAttributes(
            FUSERequest(request!), inode: inode, new: new, fields: fields, info: info.map { OpenFileInfo($0) })
    }
    operations.readlink = { request, inode in
        MountDispatcher.of(request).readSymbolicLink(FUSERequest(request!), inode: inode)
    }
    operations.mknod = { request, parent, name, mode, rdev in
        named(request, name) { $0.makeNode($1, parent: parent, name: $2, mode: mode, rdev: UInt64(rdev)) }
    }
    operations.mkdir = { request, parent, name, mode in
        named(request, name) { $0.makeDirectory($1, parent: parent, name: $2, mode: mode) }
    }
    operations.unlink = { request, parent, name in
        named(request, name) { $0.removeFile($1, parent: parent, name: $2) }
    }
    operations.rmdir = { request, parent, name in
        named(request, name) { $0.removeDirectory($1, parent: parent, name: $2) }
    }
    operations.symlink = { request, target, parent, name in
        guard let target else {
            fuse_reply_err(request, EINVAL)
            return
        }
        // Any bytes but NUL, as the kernel passed them.
        let bytes = Array(UnsafeRawBufferPointer(start: target, count: strlen(target)).bindMemory(to: UInt8.self))
        named(request, name) { $0.makeSymbolicLink($1, parent: parent, name: $2, target: bytes) }
    }
    operations.rename = { request, parent, name, newParent, newName, flags in
        guard let newName = checkedName(request, newName) else { return }
        named(request, name) {
            $0.rename($1, parent: parent, name: $2, newParent: newParent, newName: newName, flags: flags)
        }
    }
    operations.link = { request, inode, newParent, newName in
        named(request, newName) { $0.link($1, inode: inode, newParent: newParent, newName: $2) }
    }
    operations.open = { request, inode, info in
        MountDispatcher.of(request).open(FUSERequest(request!), inode: inode, info: OpenFileInfo(info))
    }
    operations.create = { request, parent, name, mode, info in
        let info = OpenFileInfo(info)
        named(request, name) { $0.create($1, parent: parent, name: $2, mode: mode, info: info) }
    }
    operations.read = { request, _, size, offset, info in
        MountDispatcher.of(request).read(FUSERequest(request!), size: size, offset: offset, info: OpenFileInfo(info))
    }
    operations.write = { request, _, buffer, size, offset, info in
        let bytes = buffer.map { Array(UnsafeRawBufferPointer(start: $0, count: size).bindMemory(to: UInt8.self)) } ?? []
        MountDispatcher.of(request).write(FUSERequest(request!), bytes: bytes, offset: offset, info: OpenFileInfo(info))
    }
    operations.flush = { request, inode, info in
        MountDispatcher.of(request).flush(FUSERequest(request!), inode: inode, info: OpenFileInfo(info))
    }
    operations.release = { request, inode, info in
        MountDispatcher.of(request).release(FUSERequest(request!), inode: inode, info: OpenFileInfo(info))
    }
    operations.fsync = { request, _, dataOnly, info in
        MountDispatcher.of(request).fsync(FUSERequest(request!), dataOnly: dataOnly != 0, info: OpenFileInfo(info))
    }
    operations.opendir = { request, _, _ in
        MountDispatcher.of(request).openDirectory(FUSERequest(request!))
    }
    operations.readdir = { request, inode, size, offset, _ in
        MountDispatcher.of(request).readDirectory(FUSERequest(request!), inode: inode, size: size, offset: offset, plus: false)
    }
    operations.readdirplus = { request, inode, size, offset, _ in
        MountDispatcher.of(request).readDirectory(FUSERequest(request!), inode: inode, size: size, offset: offset, plus: true)
    }
    operations.releasedir = { request, _, _ in
        MountDispatcher.of(request).releaseDirectory(FUSERequest(request!))
    }
    operations.fsyncdir = { request, _, _, _ in
        // Every namespace change is durable in the metadata service before it is acknowledged.
        fuse_reply_err(request, 0)
    }
    operations.statfs = { request, inode in
        MountDispatcher.of(request).statistics(FUSERequest(request!), inode: inode)
    }
    operations.setxattr = { request, inode, name, value, size, flags in
        let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size).bindMemory(to: UInt8.self)) } ?? []
        guard let name = checkedAttributeName(request, name) else { return }
        MountDispatcher.of(request).setExtendedAttribute(FUSERequest(request!), inode: inode, name: name, value: bytes, flags: flags)
    }
    operations.getxattr = { request, inode, name, size in
        guard let name = checkedAttributeName(request, name) else { return }
        MountDispatcher.of(request).getExtendedAttribute(FUSERequest(request!), inode: inode, name: name, size: size)
    }
    operations.listxattr = { request, inode, size in
        MountDispatcher.of(request).listExtendedAttributes(FUSERequest(request!), inode: inode, size: size)
    }
    operations.removexattr = { request, inode, name in
        guard let name = checkedAttributeName(request, name) else { return }
        MountDispatcher.of(request).removeExtendedAttribute(FUSERequest(request!), inode: inode, name: name)
    }
    operations.access = { request, inode, mask in
        MountDispatcher.of(request).checkAccess(FUSERequest(request!), inode: inode, mask: mask)
    }
    operations.fallocate = { request, _, mode, offset, length, info in
        MountDispatcher.of(request).allocate(
            FUSERequest(request!), mode: mode, offset: offset, length: length, info: OpenFileInfo(info))
    }
    operations.getlk = { request, inode, info, lock in
        guard let lock else { fuse_reply_err(request, EINVAL); return }
        MountDispatcher.of(request).getLock(FUSERequest(request!), inode: inode, info: OpenFileInfo(info), lock: lock.pointee)
    }
    operations.setlk = { request, inode, info, lock, sleep in
        guard let lock else { fuse_reply_err(request, EINVAL); return }
        MountDispatcher.of(request).setLock(FUSERequest(request!), inode: inode, info: OpenFileInfo(info), lock: lock.pointee, wait: sleep != 0)
    }
    operations.flock = { request, inode, info, operation in
        MountDispatcher.of(request).flock(FUSERequest(request!), inode: inode, info: OpenFileInfo(info), operation: operation)
    }
    return operations
}

/// Copies a name the kernel passed as bytes, answering EINVAL (missing) or `tooLong` (over 255
/// bytes) itself; nil when it has answered.
private nonisolated func copiedName(_ request: fuse_req_t?, _ name: UnsafePointer<CChar>?, tooLong: Int32) -> [UInt8]? {
    guard let name else {
        fuse_reply_err(request, EINVAL)
        return nil
    }
    let length = strlen(name)
    guard length <= 255 else {
        fuse_reply_err(request, tooLong)
        return nil
    }
    return Array(UnsafeRawBufferPointer(start: name, count: length).bindMemory(to: UInt8.self))
}

/// A directory-entry name: any bytes (UTF-8 or not, never repaired, so distinct names stay
/// distinct), at most 255 of them (else ENAMETOOLONG).
private nonisolated func checkedName(_ request: fuse_req_t?, _ name: UnsafePointer<CChar>?) -> FileName? {
    copiedName(request, name, tooLong: ENAMETOOLONG).map { FileName(bytes: $0) }
}

/// An extended attribute name (at most 255 bytes, as XATTR_NAME_MAX, else ERANGE).
///
/// POSIX ACLs (`system.posix_acl_*`) are refused with EOPNOTSUPP: the kernel checks permissions
/// from the mode bits only (`default_permissions` without ACL support), so an ACL stored as a
/// plain attribute would be ignored, and `cp -a` would believe it had copied permissions
/// through it and skip its chmod.
///
/// Attribute names are text (the contract carries them as `String`): one that is not UTF-8 is
/// refused with EILSEQ rather than repaired, which would merge distinct names.
private nonisolated func checkedAttributeName(_ request: fuse_req_t?, _ name: UnsafePointer<CChar>?) -> String? {
    guard let bytes = copiedName(request, name, tooLong: ERANGE) else { return nil }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        fuse_reply_err(request, EILSEQ)
        return nil
    }
    guard !text.hasPrefix("system.posix_acl_") else {
        fuse_reply_err(request, EOPNOTSUPP)
        return nil
    }
    return text
}

/// Checks and copies `name`, then hands the request to the dispatcher.
private nonisolated func named(
    _ request: fuse_req_t?, _ name: UnsafePointer<CChar>?, _ body: (MountDispatcher, FUSERequest, FileName) -> Void
) {
    guard let name = checkedName(request, name) else { return }
    body(MountDispatcher.of(request), FUSERequest(request!), name)
}
