import NIOCore

// The binary encoding of the shared namespace types (RadonWire/Namespace). Fixed-width
// big-endian fields, no names or tags: a stat reply is 78 bytes, so small-file work costs the
// service and the wire as little as possible.

extension Timestamp: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(seconds)
        buffer.writeInteger(nanoseconds)
    }

    public init(from buffer: inout ByteBuffer) throws {
        let seconds = try buffer.readWireInteger(as: Int64.self)
        let nanoseconds = try buffer.readWireInteger(as: UInt32.self)
        guard nanoseconds < 1_000_000_000 else { throw WireError.badRequest("nanoseconds \(nanoseconds) out of range") }
        self.init(seconds: seconds, nanoseconds: nanoseconds)
    }
}

extension InodeKind {
    /// Reads a kind byte, refusing unknown values.
    static func read(from buffer: inout ByteBuffer) throws -> InodeKind {
        let raw = try buffer.readWireInteger(as: UInt8.self)
        guard let kind = InodeKind(rawValue: raw) else { throw WireError.badRequest("unknown inode kind \(raw)") }
        return kind
    }
}

extension InodeAttributes: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(permissions)
        buffer.writeInteger(linkCount)
        buffer.writeInteger(uid)
        buffer.writeInteger(gid)
        buffer.writeInteger(rdev)
        buffer.writeInteger(size)
        accessTime.encode(into: &buffer)
        modificationTime.encode(into: &buffer)
        changeTime.encode(into: &buffer)
        buffer.writeInteger(generation)
        buffer.writeInteger(allocatedBytes)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            inode: try buffer.readWireInteger(),
            kind: try InodeKind.read(from: &buffer),
            permissions: try buffer.readWireInteger(),
            linkCount: try buffer.readWireInteger(),
            uid: try buffer.readWireInteger(),
            gid: try buffer.readWireInteger(),
            rdev: try buffer.readWireInteger(),
            size: try buffer.readWireInteger(),
            accessTime: try Timestamp(from: &buffer),
            modificationTime: try Timestamp(from: &buffer),
            changeTime: try Timestamp(from: &buffer),
            generation: try buffer.readWireInteger(),
            allocatedBytes: try buffer.readWireInteger()
        )
    }
}

extension AttributeChanges.TimeChange {
    fileprivate func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .now: buffer.writeInteger(0 as UInt8)
        case .at(let time):
            buffer.writeInteger(1 as UInt8)
            time.encode(into: &buffer)
        }
    }

    fileprivate static func read(from buffer: inout ByteBuffer) throws -> Self {
        switch try buffer.readWireInteger(as: UInt8.self) {
        case 0: return .now
        case 1: return .at(try Timestamp(from: &buffer))
        case let other: throw WireError.badRequest("unknown time change \(other)")
        }
    }
}

extension AttributeChanges: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireOptional(permissions) { $0.writeInteger($1) }
        buffer.writeWireOptional(uid) { $0.writeInteger($1) }
        buffer.writeWireOptional(gid) { $0.writeInteger($1) }
        buffer.writeWireOptional(size) { $0.writeInteger($1) }
        buffer.writeWireOptional(accessTime) { $1.encode(into: &$0) }
        buffer.writeWireOptional(modificationTime) { $1.encode(into: &$0) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            permissions: try buffer.readWireOptional { try $0.readWireInteger() },
            uid: try buffer.readWireOptional { try $0.readWireInteger() },
            gid: try buffer.readWireOptional { try $0.readWireInteger() },
            size: try buffer.readWireOptional { try $0.readWireInteger() },
            accessTime: try buffer.readWireOptional { try TimeChange.read(from: &$0) },
            modificationTime: try buffer.readWireOptional { try TimeChange.read(from: &$0) }
        )
    }
}

extension DirectoryEntry: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMetaName(name)
        attributes.encode(into: &buffer)
        buffer.writeInteger(cookie)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            name: try buffer.readMetaName(maximumLength: MetaLimits.maximumNameLength),
            attributes: try InodeAttributes(from: &buffer),
            cookie: try buffer.readWireInteger()
        )
    }
}

extension FileSystemStatistics: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(blockSize)
        buffer.writeInteger(totalBlocks)
        buffer.writeInteger(freeBlocks)
        buffer.writeInteger(availableBlocks)
        buffer.writeInteger(totalInodes)
        buffer.writeInteger(freeInodes)
        buffer.writeInteger(maximumNameLength)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            blockSize: try buffer.readWireInteger(),
            totalBlocks: try buffer.readWireInteger(),
            freeBlocks: try buffer.readWireInteger(),
            availableBlocks: try buffer.readWireInteger(),
            totalInodes: try buffer.readWireInteger(),
            freeInodes: try buffer.readWireInteger(),
            maximumNameLength: try buffer.readWireInteger()
        )
    }
}

extension MetaCaller: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(uid)
        buffer.writeInteger(gid)
        buffer.writeWireArray(groups) { $0.writeInteger($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            uid: try buffer.readWireInteger(),
            gid: try buffer.readWireInteger(),
            groups: try buffer.readWireArray(maximumCount: MetaLimits.maximumSupplementaryGroups) { try $0.readWireInteger() }
        )
    }
}

extension ByteBuffer {
    /// A node address as metadata messages carry it (host string, u16 port). Kept internal so
    /// it cannot clash with a future conformance of `WireAddress` elsewhere.
    mutating func writeMetaAddress(_ address: WireAddress) {
        writeWireString(address.host)
        writeInteger(UInt16(clamping: address.port))
    }

    mutating func readMetaAddress() throws -> WireAddress {
        let host = try readWireString(maximumLength: 255)
        return WireAddress(host: host, port: Int(try readWireInteger(as: UInt16.self)))
    }
}

/// The bounds the metadata service enforces on what a request may carry.
public enum MetaLimits {
    /// Longest name in a directory, in bytes (`NAME_MAX`).
    public static let maximumNameLength = 255
    /// Longest symbolic link target (`PATH_MAX`).
    public static let maximumSymbolicLinkLength = 4096
    /// Longest extended attribute name (`XATTR_NAME_MAX`).
    public static let maximumAttributeNameLength = 255
    /// Largest extended attribute value (`XATTR_SIZE_MAX`).
    public static let maximumAttributeValueLength = 65536
    /// Most supplementary groups a caller may name (`NGROUPS_MAX`).
    public static let maximumSupplementaryGroups = 65536
    /// Largest inline threshold a volume may set; a file this small lives in its inode.
    public static let maximumInlineThreshold: UInt32 = 65536
    /// Most entries one readdir reply carries.
    public static let maximumDirectoryBatch = 4096
}
