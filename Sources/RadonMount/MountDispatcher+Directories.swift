import CFUSE3
import Glibc
import RadonClient

/// Directory listing. Listings are stateless: the offset the kernel passes back is the cookie
/// of the last entry it received, so no per-open state is kept and releasedir has nothing to do.
extension MountDispatcher {
    func openDirectory(_ request: FUSERequest) {
        var reply = OpenFileInfo.reply(handle: 0)
        fuse_reply_open(request.raw, &reply)
    }

    func releaseDirectory(_ request: FUSERequest) {
        request.replyOK()
    }

    /// readdir (`plus` false) or readdirplus (`plus` true): fills at most `size` bytes.
    func readDirectory(_ request: FUSERequest, inode: UInt64, size: Int, offset: Int, plus: Bool) {
        serve(request, plus ? "readdirplus" : "readdir") { [self] in
            // Roughly how many entries fit; the buffer decides exactly.
            let limit = min(1024, max(8, size / (plus ? 160 : 32)))
            let entries = try await fileSystem.readDirectory(inode, after: UInt64(max(0, offset)), limit: limit)
            var buffer = [CChar](repeating: 0, count: size)
            var used = 0
            buffer.withUnsafeMutableBufferPointer { storage in
                for entry in entries {
                    let remaining = size - used
                    // The name's bytes as a C string (names never contain NUL).
                    let name = (entry.name.bytes + [0]).map { CChar(bitPattern: $0) }
                    let needed: Int
                    if plus {
                        var parameters = entry.attributes.entryParameters(timeouts: timeouts)
                        needed = fuse_add_direntry_plus(
                            request.raw, storage.baseAddress! + used, remaining, name, &parameters,
                            Int(truncatingIfNeeded: entry.cookie))
                    } else {
                        var status = entry.attributes.statBuffer
                        needed = fuse_add_direntry(
                            request.raw, storage.baseAddress! + used, remaining, name, &status,
                            Int(truncatingIfNeeded: entry.cookie))
                    }
                    if needed > remaining { break }
                    used += needed
                }
            }
            _ = fuse_reply_buf(request.raw, buffer, used)
        }
    }
}
