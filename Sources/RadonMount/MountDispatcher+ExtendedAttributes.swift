import CFUSE3
import Glibc
import RadonClient

/// Extended attributes, with the size-0 probe of getxattr(2)/listxattr(2): a zero size asks for
/// the length only; a buffer too small is ERANGE.
extension MountDispatcher {
    func getExtendedAttribute(_ request: FUSERequest, inode: UInt64, name: String, size: Int) {
        serve(request, "getxattr") { [self] in
            let value = try await fileSystem.extendedAttribute(of: inode, name: name)
            replySized(request, value, size: size)
        }
    }

    func setExtendedAttribute(_ request: FUSERequest, inode: UInt64, name: String, value: [UInt8], flags: Int32) {
        let context = request.context
        serve(request, "setxattr") { [self] in
            try await fileSystem.setExtendedAttribute(of: inode, name: name, value: value, flags: flags, context: context)
            request.replyOK()
        }
    }

    func listExtendedAttributes(_ request: FUSERequest, inode: UInt64, size: Int) {
        serve(request, "listxattr") { [self] in
            let names = try await fileSystem.extendedAttributeNames(of: inode)
            var list: [UInt8] = []
            for name in names {
                list.append(contentsOf: name.utf8)
                list.append(0)
            }
            replySized(request, list, size: size)
        }
    }

    func removeExtendedAttribute(_ request: FUSERequest, inode: UInt64, name: String) {
        let context = request.context
        serve(request, "removexattr") { [self] in
            try await fileSystem.removeExtendedAttribute(of: inode, name: name, context: context)
            request.replyOK()
        }
    }

    private func replySized(_ request: FUSERequest, _ bytes: [UInt8], size: Int) {
        if size == 0 {
            fuse_reply_xattr(request.raw, bytes.count)
        } else if bytes.count > size {
            request.replyError(ERANGE)
        } else {
            request.replyBytes(bytes)
        }
    }
}
