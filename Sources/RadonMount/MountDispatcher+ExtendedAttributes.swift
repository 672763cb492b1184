import CFUSE3
import Glibc
import RadonClient

/// Extended attributes, with the size-0 probe of getxattr(2)/listxattr(2): a zero size asks for
/// the length only; a buffer too small is ERANGE.
extension MountDispatcher {
    func getExtendedAttribute(_ request: FUSERequest, inode: UInt64, name: String, size: Int) {
        let isCapability = name == Self.capabilityAttribute
        if isCapability, capabilityKnownAbsent(inode) {
            request.replyError(ENODATA)
            return
        }
        serve(request, "getxattr", staleWhenMissing: true) { [self] in
            let value: [UInt8]
            do {
                value = try await fileSystem.extendedAttribute(of: inode, name: name)
            } catch let error as FileSystemError where isCapability && error.errno == ENODATA {
                rememberCapabilityAbsent(inode)
                throw error
            }
            replySized(request, value, size: size)
        }
    }

    /// The kernel asks for this attribute before every write (to drop file capabilities), one
    /// metadata round trip per write; its absence is cached for the attribute timeout, as
    /// attributes are, and forgotten when this mount sets or removes it.
    static let capabilityAttribute = "security.capability"

    private func capabilityKnownAbsent(_ inode: UInt64) -> Bool {
        let now = ContinuousClock.now
        return capabilityAbsence.withLock { absent in
            guard let expiry = absent[inode] else { return false }
            if expiry > now { return true }
            absent[inode] = nil
            return false
        }
    }

    func rememberCapabilityAbsent(_ inode: UInt64) {
        let expiry = ContinuousClock.now + .milliseconds(Int64(options.attributeTimeout * 1000))
        capabilityAbsence.withLock { absent in
            if absent.count > 100_000 { absent.removeAll() }
            absent[inode] = expiry
        }
    }

    private func forgetCapabilityAbsence(_ inode: UInt64, name: String) {
        guard name == Self.capabilityAttribute else { return }
        _ = capabilityAbsence.withLock { $0.removeValue(forKey: inode) }
    }

    func setExtendedAttribute(_ request: FUSERequest, inode: UInt64, name: String, value: [UInt8], flags: Int32) {
        let context = request.context
        forgetCapabilityAbsence(inode, name: name)
        serve(request, "setxattr", staleWhenMissing: true) { [self] in
            try await fileSystem.setExtendedAttribute(of: inode, name: name, value: value, flags: flags, context: context)
            request.replyOK()
        }
    }

    func listExtendedAttributes(_ request: FUSERequest, inode: UInt64, size: Int) {
        serve(request, "listxattr", staleWhenMissing: true) { [self] in
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
        forgetCapabilityAbsence(inode, name: name)
        serve(request, "removexattr", staleWhenMissing: true) { [self] in
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
