import CFUSE3
import Glibc

/// The capabilities the mount asks of the kernel when the session starts.
extension MountDispatcher {
    func negotiate(_ connection: UnsafeMutablePointer<fuse_conn_info>) {
        let capable = connection.pointee.capable
        var want = connection.pointee.want
        func ask(_ capability: Int32) {
            if capable & UInt32(capability) != 0 { want |= UInt32(capability) }
        }
        // Parallel reads of one file, and direct I/O issued asynchronously.
        ask(FUSE_CAP_ASYNC_READ)
        ask(FUSE_CAP_ASYNC_DIO)
        // O_TRUNC arrives with open, so the core truncates and opens in one step.
        ask(FUSE_CAP_ATOMIC_O_TRUNC)
        // Lookups and listings in one directory run concurrently.
        ask(FUSE_CAP_PARALLEL_DIROPS)
        // `ls -l` gets names and attributes in one round trip.
        ask(FUSE_CAP_READDIRPLUS)
        ask(FUSE_CAP_READDIRPLUS_AUTO)
        // Locks go to the metadata service through getlk/setlk/flock, so they hold across
        // mounts (libfuse asks for these itself when the operations exist; said here too).
        ask(FUSE_CAP_POSIX_LOCKS)
        ask(FUSE_CAP_FLOCK_LOCKS)
        // A read on a file whose attributes expired checks mtime and drops stale pages.
        ask(FUSE_CAP_AUTO_INVAL_DATA)
        // No writeback cache: the kernel would then own file sizes and mtimes and flush pages
        // whenever it likes; the core gathers writes into blocks itself and keeps the sizes
        // every mount sees authoritative.
        want &= ~UInt32(FUSE_CAP_WRITEBACK_CACHE)
        // The kernel clears setuid/setgid bits on write and chown (by a setattr), not the core.
        want &= ~UInt32(FUSE_CAP_HANDLE_KILLPRIV)
        // Splice gains nothing: every byte is copied into the encoder anyway.
        want &= ~UInt32(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE)
        connection.pointee.want = want
        connection.pointee.max_write = options.maximumWrite
        // Requests the kernel may have outstanding in the background (read-ahead, async I/O).
        connection.pointee.max_background = 64
        connection.pointee.congestion_threshold = 48
        connection.pointee.time_gran = 1
        // The kernel sets the mount's read-ahead from the INIT reply, after this returns.
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(200))
            widenReadAhead()
        }
        logger.debug("FUSE connection: protocol \(connection.pointee.proto_major).\(connection.pointee.proto_minor), max_write \(connection.pointee.max_write), want 0x\(String(want, radix: 16))")
    }

    /// Widens the kernel's read-ahead for this mount (FUSE caps it at 128 KiB), so sequential
    /// reads arrive as requests of up to 1 MiB the core can serve as whole blocks. The device
    /// number comes from the mount table: stat() of the mount point from here would wait on
    /// this very session.
    func widenReadAhead() {
        guard let kilobytes = options.readAheadKilobytes,
              let device = MountTable.entry(at: mountPoint)?.device else { return }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        let descriptor = Glibc.open(path, O_WRONLY)
        guard descriptor >= 0 else {
            logger.debug("cannot open \(path): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(descriptor) }
        let text = Array("\(kilobytes)\n".utf8)
        if Glibc.write(descriptor, text, text.count) != text.count {
            logger.debug("cannot set read-ahead in \(path): \(String(cString: strerror(errno)))")
        }
    }
}
