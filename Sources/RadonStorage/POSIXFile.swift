#if canImport(Glibc)
import Glibc
#endif
import RadonWire

/// A file descriptor with the few calls the fragment store makes, each turning errno into a
/// `WireError` the client understands (`ENOSPC` becomes `.noSpace`). Closed on deinit.
final class POSIXFile {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Opens `path`; nil when it does not exist.
    static func openIfExists(_ path: String, flags: Int32) throws -> POSIXFile? {
        let descriptor = open(path, flags | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw POSIXFile.error("open", path)
        }
        return POSIXFile(descriptor: descriptor, path: path)
    }

    /// Creates `path` exclusively; nil when it already exists.
    static func createExclusively(_ path: String) throws -> POSIXFile? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, PrivateState.fileMode)
        if descriptor < 0 {
            if errno == EEXIST { return nil }
            throw POSIXFile.error("create", path)
        }
        return POSIXFile(descriptor: descriptor, path: path)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let result = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw POSIXFile.error("read", path)
            }
            if result == 0 { break }
            done += result
        }
        return done
    }

    /// Reads `buffer.count` bytes at `offset` only if the page cache holds them all
    /// (`preadv2` with `RWF_NOWAIT`): nil when the read would wait for the disk, when it would
    /// come back short (part cached, or the end of the file: the caller then reads the waiting
    /// way, which tells them apart) and where the kernel or C library cannot say. Lets a small
    /// read be served on the thread that received its request, with no hand-off, without ever
    /// waiting for a disk there.
    func readIfCached(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int? {
        guard let preadv2 = Self.linuxPreadv2, buffer.count > 0 else { return nil }
        var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        while true {
            let result = preadv2(descriptor, &vector, 1, off_t(offset), Self.readNoWait)
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL { return nil }
                throw POSIXFile.error("read", path)
            }
            return result == buffer.count ? result : nil
        }
    }

    /// `RWF_NOWAIT` (linux/fs.h).
    private static let readNoWait: Int32 = 0x08

    /// glibc's `preadv2(2)`, which the Glibc module does not import (a GNU extension); nil where
    /// the C library lacks it.
    private static let linuxPreadv2: (@convention(c) (Int32, UnsafePointer<iovec>, Int32, off_t, Int32) -> Int)? = {
        guard let symbol = dlsym(nil, "preadv2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<iovec>, Int32, off_t, Int32) -> Int).self)
    }()

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw POSIXFile.error("write", path)
            }
            done += result
        }
    }

    /// Writes `parts` back to back at `offset` with `pwritev`: a slot's header and its
    /// fragment go out in one call without being copied together first.
    func write(_ parts: [UnsafeRawBufferPointer], at offset: Int) throws {
        let total = parts.reduce(0) { $0 + $1.count }
        var done = 0
        while done < total {
            // The parts still to write, the first one cut where a short write stopped.
            var skip = done
            var vectors: [iovec] = []
            for part in parts where part.count > 0 {
                if skip >= part.count {
                    skip -= part.count
                    continue
                }
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: part.baseAddress! + skip), iov_len: part.count - skip))
                skip = 0
            }
            let result = pwritev(descriptor, vectors, Int32(vectors.count), off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw POSIXFile.error("write", path)
            }
            done += result
        }
    }

    func synchronize() throws {
        guard fsync(descriptor) == 0 else { throw POSIXFile.error("fsync", path) }
    }

    /// Starts writing `count` bytes at `offset` back to the disk without waiting for them, nor
    /// for the journal (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`), so a later fsync finds
    /// most of its I/O done: the disk works while the writer goes on, as with an fsync per write,
    /// without the writer waiting for it. Best effort: an error shows at that fsync.
    func startWriteBack(at offset: Int, count: Int) {
        _ = Self.syncFileRange?(descriptor, Int64(offset), Int64(count), Self.syncFileRangeWrite)
    }

    /// Whether `startWriteBack` does anything here (glibc has `sync_file_range`).
    static var startsWriteBack: Bool { syncFileRange != nil }

    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    /// `SYNC_FILE_RANGE_WRITE` from <fcntl.h>, which the Glibc module leaves out with the call.
    private static let syncFileRangeWrite: UInt32 = 2
    /// glibc's `sync_file_range`, looked up at run time: the Glibc module declares it only under
    /// _GNU_SOURCE. Nil where the C library has none (the write-back then starts on its own).
    private static let syncFileRange: SyncFileRange? = {
        // RTLD_DEFAULT: the process's global symbols.
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range").map { unsafeBitCast($0, to: SyncFileRange.self) }
    }()

    func truncate(to length: Int) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw POSIXFile.error("truncate", path) }
    }

    var size: Int {
        get throws {
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw POSIXFile.error("stat", path) }
            return Int(info.st_size)
        }
    }

    /// Makes a directory entry change (create, unlink) in `directory` durable.
    static func synchronizeDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw error("open", directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw error("fsync", directory) }
    }

    /// The wire error for the current errno: no space stays `.noSpace`, the rest are the
    /// daemon's own failure (`.internalError`), never the client's.
    static func error(_ operation: String, _ path: String, errno code: Int32 = errno) -> WireError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT: return WireError(.noSpace, "\(operation) \(path): \(reason)", errno: code)
        default: return WireError(.internalError, "\(operation) \(path): \(reason)", errno: code)
        }
    }
}
