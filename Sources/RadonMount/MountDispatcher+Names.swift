import CFUSE3
import Glibc
import RadonClient

/// Requests that work on names in a directory: lookup, create nodes, remove, rename, link.
extension MountDispatcher {
    func lookup(_ request: FUSERequest, parent: UInt64, name: FileName) {
        let context = request.context
        serve(request, "lookup") { [self] in
            let entry = try await fileSystem.lookupEntry(parent: parent, name: name, context: context)
            let attributes = entry.attributes
            logger.trace("lookup \(parent)/\(name): inode \(attributes.inode) size \(attributes.size)")
            request.replyEntry(attributes, timeouts: timeouts.trusting(for: entry.trustedFor))
        }
    }

    func makeNode(_ request: FUSERequest, parent: UInt64, name: FileName, mode: UInt32, rdev: UInt64) {
        let context = request.context
        serve(request, "mknod") { [self] in
            guard let kind = InodeKind(mode: mode), kind != .directory, kind != .symlink else {
                throw FileSystemError.invalid("mknod of mode \(String(mode, radix: 8))")
            }
            let attributes = try await fileSystem.makeNode(
                parent: parent, name: name, kind: kind, permissions: mode & 0o7777, rdev: rdev, context: context)
            request.replyEntry(attributes, timeouts: timeouts)
        }
    }

    func makeDirectory(_ request: FUSERequest, parent: UInt64, name: FileName, mode: UInt32) {
        let context = request.context
        serve(request, "mkdir") { [self] in
            let attributes = try await fileSystem.makeDirectory(
                parent: parent, name: name, permissions: mode & 0o7777, context: context)
            request.replyEntry(attributes, timeouts: timeouts)
        }
    }

    func makeSymbolicLink(_ request: FUSERequest, parent: UInt64, name: FileName, target: [UInt8]) {
        let context = request.context
        serve(request, "symlink") { [self] in
            guard target.count < Int(PATH_MAX) else { throw FileSystemError.nameTooLong("symlink target") }
            let attributes = try await fileSystem.makeSymbolicLink(parent: parent, name: name, target: target, context: context)
            request.replyEntry(attributes, timeouts: timeouts)
        }
    }

    func readSymbolicLink(_ request: FUSERequest, inode: UInt64) {
        serve(request, "readlink", staleWhenMissing: true) { [self] in
            let target = try await fileSystem.readSymbolicLink(inode)
            // A C string of the target's bytes (never containing NUL, so none is cut short).
            (target + [0]).withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { _ = fuse_reply_readlink(request.raw, $0.baseAddress) }
            }
        }
    }

    func removeFile(_ request: FUSERequest, parent: UInt64, name: FileName) {
        let context = request.context
        serve(request, "unlink") { [self] in
            try await fileSystem.removeFile(parent: parent, name: name, context: context)
            request.replyOK()
        }
    }

    func removeDirectory(_ request: FUSERequest, parent: UInt64, name: FileName) {
        let context = request.context
        serve(request, "rmdir") { [self] in
            try await fileSystem.removeDirectory(parent: parent, name: name, context: context)
            request.replyOK()
        }
    }

    func rename(_ request: FUSERequest, parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, flags: UInt32) {
        let context = request.context
        serve(request, "rename") { [self] in
            let mode: RenameMode
            switch flags {
            case 0: mode = .replace
            case renameNoReplace: mode = .noReplace
            case renameExchange: mode = .exchange
            default: throw FileSystemError.invalid("rename flags \(flags)")
            }
            try await fileSystem.rename(
                parent: parent, name: name, newParent: newParent, newName: newName, mode: mode, context: context)
            request.replyOK()
        }
    }

    func link(_ request: FUSERequest, inode: UInt64, newParent: UInt64, newName: FileName) {
        let context = request.context
        serve(request, "link") { [self] in
            let attributes = try await fileSystem.link(inode, newParent: newParent, newName: newName, context: context)
            request.replyEntry(attributes, timeouts: timeouts)
        }
    }
}

/// renameat2(2) flags, from <linux/fs.h> (which Glibc's module does not carry).
private let renameNoReplace: UInt32 = 1 << 0
private let renameExchange: UInt32 = 1 << 1
