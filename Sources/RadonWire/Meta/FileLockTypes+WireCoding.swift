#if canImport(Glibc)
import Glibc
#endif
import NIOCore

extension FileLockMode {
    /// The u8 of a lock request's type: 0 shared, 1 exclusive, 2 unlock (nil), as F_RDLCK,
    /// F_WRLCK and F_UNLCK.
    static let unlockCode: UInt8 = 2

    static func readRequested(from buffer: inout ByteBuffer) throws -> FileLockMode? {
        if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == unlockCode {
            buffer.moveReaderIndex(forwardBy: 1)
            return nil
        }
        return try buffer.readWireEnum(FileLockMode.self, "lock type")
    }
}

extension LockRange: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(start)
        buffer.writeInteger(end)
    }

    /// A range whose end is before its start is EINVAL, as fcntl answers it.
    public init(from buffer: inout ByteBuffer) throws {
        let start: UInt64 = try buffer.readWireInteger()
        let end: UInt64 = try buffer.readWireInteger()
        guard let range = LockRange(checkedStart: start, end: end) else {
            throw WireError(.invalidArgument, "lock range \(start)...\(end) ends before it starts", errno: EINVAL)
        }
        self = range
    }
}

extension LockConflict: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(mode.rawValue)
        range.encode(into: &buffer)
        buffer.writeInteger(pid)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(mode: try buffer.readWireEnum(FileLockMode.self, "lock mode"), range: try LockRange(from: &buffer), pid: try buffer.readWireInteger())
    }
}
