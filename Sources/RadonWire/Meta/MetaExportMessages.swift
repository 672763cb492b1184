import NIOCore

// Exports: what one client certificate may see and do (issue 12). The metadata service keeps
// them in its store and judges every request of a client by its certificate's name; an
// operator manages them with `radonfs export add|list|remove`.

/// Whose uid and gid a request of an exported client acts as.
public enum ExportSquash: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// As the client sends them.
    case none = 0
    /// uid 0 becomes the anonymous uid and gid 0 the anonymous gid (NFS root_squash).
    case root = 1
    /// Every caller becomes the anonymous user (NFS all_squash).
    case all = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .root: "root"
        case .all: "all"
        }
    }
}

/// One export: the subtree a client certificate may mount and how.
///
/// Invariants: `root` is the directory `path` named when the export was added (an export
/// follows its directory through renames, as an NFS export of an inode would); a client with
/// an export never names an inode outside that directory's subtree; `allowedUIDs`, when set,
/// bounds the uid a request acts as after squashing.
public struct ExportRule: WireMessage, Hashable {
    /// The client certificate's common name (`radonfs cert issue --role client NAME`).
    public var name: String
    /// The directory as given when the export was added, for `export list`.
    public var path: String
    /// The directory's inode: the client's root. 0 in an `addExport` request (the service
    /// resolves `path`).
    public var root: UInt64
    public var readOnly: Bool
    public var squash: ExportSquash
    /// Who a squashed caller becomes (65534, nobody/nogroup, unless set).
    public var anonymousUID: UInt32
    public var anonymousGID: UInt32
    /// The only uids requests may act as (after squashing); nil: any.
    public var allowedUIDs: ClosedRange<UInt32>?

    public static let nobody: UInt32 = 65534

    public init(
        name: String, path: String, root: UInt64 = 0, readOnly: Bool = false, squash: ExportSquash = .none,
        anonymousUID: UInt32 = ExportRule.nobody, anonymousGID: UInt32 = ExportRule.nobody, allowedUIDs: ClosedRange<UInt32>? = nil
    ) {
        self.name = name
        self.path = path
        self.root = root
        self.readOnly = readOnly
        self.squash = squash
        self.anonymousUID = anonymousUID
        self.anonymousGID = anonymousGID
        self.allowedUIDs = allowedUIDs
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(name)
        buffer.writeWireString(path)
        buffer.writeInteger(root)
        buffer.writeWireBool(readOnly)
        buffer.writeInteger(squash.rawValue)
        buffer.writeInteger(anonymousUID)
        buffer.writeInteger(anonymousGID)
        buffer.writeWireOptional(allowedUIDs) { buffer, range in
            buffer.writeInteger(range.lowerBound)
            buffer.writeInteger(range.upperBound)
        }
    }

    public init(from buffer: inout ByteBuffer) throws {
        name = try buffer.readWireString(maximumLength: 1024)
        path = try buffer.readWireString(maximumLength: 4096)
        root = try buffer.readWireInteger()
        readOnly = try buffer.readWireBool()
        squash = try buffer.readWireEnum(ExportSquash.self, "export squash")
        anonymousUID = try buffer.readWireInteger()
        anonymousGID = try buffer.readWireInteger()
        allowedUIDs = try buffer.readWireOptional { buffer in
            let lower: UInt32 = try buffer.readWireInteger()
            let upper: UInt32 = try buffer.readWireInteger()
            guard lower <= upper else { throw WireError(.badRequest, "uid range \(lower)-\(upper) is empty") }
            return lower...upper
        }
    }
}

/// Every export, for `radonfs export list`.
public struct ExportListReply: WireMessage, Hashable {
    public var exports: [ExportRule]
    public init(_ exports: [ExportRule]) { self.exports = exports }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(exports) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws { exports = try buffer.readWireArray { try ExportRule(from: &$0) } }
}

/// An export by its client's name: `removeExport`.
public struct ExportNameRequest: WireMessage, Hashable {
    public var name: String
    public init(name: String) { self.name = name }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireString(name) }
    public init(from buffer: inout ByteBuffer) throws { name = try buffer.readWireString(maximumLength: 1024) }
}

/// What a mount is given when it starts (`exportRoot`): the directory it shows as its root,
/// and whether it may write. A caller with no export (an operator, a shared-key peer) gets
/// the file system's root, read-write.
public struct ExportGrant: WireMessage, Hashable {
    public var root: InodeAttributes
    public var readOnly: Bool
    /// The exported path ("/" for the whole file system).
    public var path: String

    public init(root: InodeAttributes, readOnly: Bool, path: String) {
        self.root = root
        self.readOnly = readOnly
        self.path = path
    }

    public func encode(into buffer: inout ByteBuffer) {
        root.encode(into: &buffer)
        buffer.writeWireBool(readOnly)
        buffer.writeWireString(path)
    }

    public init(from buffer: inout ByteBuffer) throws {
        root = try InodeAttributes(from: &buffer)
        readOnly = try buffer.readWireBool()
        path = try buffer.readWireString(maximumLength: 4096)
    }
}
