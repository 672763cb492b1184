import CFUSE3
import Glibc
import RadonClient

/// Requests on open files: open, create, read, write, flush, fsync, release, fallocate.
extension MountDispatcher {
    func open(_ request: FUSERequest, inode: UInt64, info: OpenFileInfo) {
        let context = request.context
        serve(request, "open", staleWhenMissing: true) { [self] in
            let handle = try await fileSystem.open(inode, flags: info.openFlags, context: context)
            logger.trace("open \(inode): handle \(handle.rawValue)")
            // Close-to-open: whatever another mount wrote and closed must be seen from here on.
            invalidateCachedAttributes(of: inode)
            var reply = OpenFileInfo.reply(handle: handle.rawValue)
            if fuse_reply_open(request.raw, &reply) != 0 {
                // The opener was interrupted and will never release this handle: do it here.
                try? await fileSystem.release(handle)
            }
        }
    }

    func create(_ request: FUSERequest, parent: UInt64, name: FileName, mode: UInt32, info: OpenFileInfo) {
        let context = request.context
        serve(request, "create") { [self] in
            let created = try await fileSystem.create(
                parent: parent, name: name, permissions: mode & 0o7777, flags: info.openFlags,
                exclusive: info.flags & O_EXCL != 0, context: context)
            let (attributes, handle) = (created.attributes, created.handle)
            // The kernel asks for the capability before the first write; a new file has none.
            if created.isNew { rememberCapabilityAbsent(attributes.inode) }
            logger.trace("create \(parent)/\(name): inode \(attributes.inode) size \(attributes.size) handle \(handle.rawValue)")
            var entry = attributes.entryParameters(timeouts: timeouts)
            var reply = OpenFileInfo.reply(handle: handle.rawValue)
            if fuse_reply_create(request.raw, &entry, &reply) != 0 {
                try? await fileSystem.release(handle)
            }
        }
    }

    func read(_ request: FUSERequest, size: Int, offset: Int, info: OpenFileInfo) {
        serve(request, "read") { [self] in
            guard offset >= 0 else { throw FileSystemError.invalid("negative offset") }
            let bytes = try await fileSystem.read(info.fileHandle, offset: UInt64(offset), count: size)
            metrics.bytesRead.increment(by: bytes.count)
            request.replyBytes(bytes)
        }
    }

    func write(_ request: FUSERequest, bytes: [UInt8], offset: Int, info: OpenFileInfo) {
        serve(request, "write") { [self] in
            guard offset >= 0 else { throw FileSystemError.invalid("negative offset") }
            let written = try await fileSystem.write(info.fileHandle, offset: UInt64(offset), bytes: bytes)
            metrics.bytesWritten.increment(by: written)
            logger.trace("write handle \(info.handle): \(written) bytes at \(offset)")
            fuse_reply_write(request.raw, written)
        }
    }

    /// close(2) of one descriptor: its writes become durable, then the closing process's POSIX
    /// locks on the file go (after the data, so the next holder reads it), even if the flush
    /// failed.
    func flush(_ request: FUSERequest, inode: UInt64, info: OpenFileInfo) {
        serve(request, "flush") { [self] in
            var failure: (any Error)?
            do { try await fileSystem.flush(info.fileHandle) } catch { failure = error }
            try await releasePosixLocks(inode, owner: info.lockOwner)
            if let failure { throw failure }
            logger.trace("flush handle \(info.handle)")
            request.replyOK()
        }
    }

    func fsync(_ request: FUSERequest, dataOnly: Bool, info: OpenFileInfo) {
        serve(request, "fsync") { [self] in
            try await fileSystem.fsync(info.fileHandle, dataOnly: dataOnly)
            request.replyOK()
        }
    }

    /// The last close of a file description: the handle goes, then its flock lock and the OFD
    /// locks taken through it (see `LockHolders`).
    func release(_ request: FUSERequest, inode: UInt64, info: OpenFileInfo) {
        serve(request, "release") { [self] in
            var failure: (any Error)?
            do { try await fileSystem.release(info.fileHandle) } catch { failure = error }
            try await releaseDescriptionLocks(inode, handle: info.handle, flockOwner: info.releasesFlock ? info.lockOwner : nil)
            if let failure { throw failure }
            logger.trace("release handle \(info.handle)")
            request.replyOK()
        }
    }

    func allocate(_ request: FUSERequest, mode: Int32, offset: Int, length: Int, info: OpenFileInfo) {
        serve(request, "fallocate") { [self] in
            guard offset >= 0, length > 0 else { throw FileSystemError.invalid("fallocate range") }
            try await fileSystem.allocate(info.fileHandle, offset: UInt64(offset), length: UInt64(length), mode: mode)
            request.replyOK()
        }
    }
}
