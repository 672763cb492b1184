import NIOCore

// Requests and replies of client sessions (leases) and of what a session holds: the data token
// of a file it writes, and its open files (which keep an unlinked file alive).

/// Opens a client session: `clientName` is for logs and status only.
public struct OpenSessionRequest: WireMessage, Hashable {
    public var clientName: String

    public init(clientName: String) { self.clientName = clientName }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireString(clientName) }

    public init(from buffer: inout ByteBuffer) throws {
        clientName = try buffer.readWireString(maximumLength: 256)
    }
}

/// A session id, alone: renewSession and closeSession.
public struct SessionRequest: WireMessage, Hashable {
    public var session: UInt64

    public init(session: UInt64) { self.session = session }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(session) }

    public init(from buffer: inout ByteBuffer) throws { session = try buffer.readWireInteger() }
}

/// A session opened or renewed: its id and how long it lives without another renewal.
///
/// A renewal also names the files whose data token this session holds while another session
/// waits for it: the client flushes them (which hands the token back) so writers take turns.
public struct SessionLease: WireMessage, Hashable {
    public var session: UInt64
    public var leaseMilliseconds: UInt32
    public var wantedTokens: [UInt64]

    public init(session: UInt64, leaseMilliseconds: UInt32, wantedTokens: [UInt64] = []) {
        self.session = session
        self.leaseMilliseconds = leaseMilliseconds
        self.wantedTokens = wantedTokens
    }

    public var lease: Duration { .milliseconds(Int64(leaseMilliseconds)) }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(leaseMilliseconds)
        buffer.writeWireArray(wantedTokens) { $0.writeInteger($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        leaseMilliseconds = try buffer.readWireInteger()
        wantedTokens = try buffer.readWireArray(maximumCount: 1 << 16) { try $0.readWireInteger() }
    }
}

/// A session and an inode: openFile, closeFile.
public struct SessionInodeRequest: WireMessage, Hashable {
    public var session: UInt64
    public var inode: UInt64
    /// openFile: who opens, and for what (`read`, `write`: the open(2) access mode), so the
    /// service checks the file's permissions as the export lets the caller act (root squash
    /// holds for a file's bytes too). Sent last and only when set; nil: no check.
    public var opener: Opener?

    public struct Opener: Sendable, Hashable {
        public var caller: MetaCaller
        public var read: Bool
        public var write: Bool

        public init(caller: MetaCaller, read: Bool, write: Bool) {
            self.caller = caller
            self.read = read
            self.write = write
        }
    }

    public init(session: UInt64, inode: UInt64, opener: Opener? = nil) {
        self.session = session
        self.inode = inode
        self.opener = opener
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(inode)
        if let opener {
            opener.caller.encode(into: &buffer)
            buffer.writeWireBool(opener.read)
            buffer.writeWireBool(opener.write)
        }
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        opener = buffer.readableBytes > 0
            ? Opener(caller: try MetaCaller(from: &buffer), read: try buffer.readWireBool(), write: try buffer.readWireBool())
            : nil
    }
}

/// Asks for a file's data token, waiting up to `waitMilliseconds` for its holder to hand it back.
public struct AcquireDataTokenRequest: WireMessage, Hashable {
    public var session: UInt64
    public var inode: UInt64
    public var waitMilliseconds: UInt32

    public init(session: UInt64, inode: UInt64, waitMilliseconds: UInt32) {
        self.session = session
        self.inode = inode
        self.waitMilliseconds = waitMilliseconds
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(inode)
        buffer.writeInteger(waitMilliseconds)
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        waitMilliseconds = try buffer.readWireInteger()
    }
}

/// The answer to acquireDataToken: granted with the file's attributes as they are now (their
/// generation tells the holder whether another client changed the file since it last looked),
/// or still held by another session after the wait (ask again).
public struct DataTokenGrant: WireMessage, Hashable {
    public var attributes: InodeAttributes?

    public init(attributes: InodeAttributes?) { self.attributes = attributes }

    public var isGranted: Bool { attributes != nil }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireOptional(attributes) { $1.encode(into: &$0) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        attributes = try buffer.readWireOptional { try InodeAttributes(from: &$0) }
    }
}

/// The answer to openFile: the file's attributes and, for a regular file, where its blocks
/// live and, for a small file kept in the inode, its bytes (what an open needs, in one round trip).
public struct OpenFileReply: WireMessage, Hashable {
    public var attributes: InodeAttributes
    public var layout: FileLayout?
    /// The inline bytes when `layout` says the file is inline.
    public var inlineBytes: [UInt8]?
    /// Bytes the file may grow by under the quotas above it (nil: none); the client asks
    /// `quotaHeadroom` again once its writes used it up.
    public var quotaHeadroom: UInt64?

    public init(attributes: InodeAttributes, layout: FileLayout?, inlineBytes: [UInt8]? = nil, quotaHeadroom: UInt64? = nil) {
        self.attributes = attributes
        self.layout = layout
        self.inlineBytes = inlineBytes
        self.quotaHeadroom = quotaHeadroom
    }

    public func encode(into buffer: inout ByteBuffer) {
        attributes.encode(into: &buffer)
        buffer.writeWireOptional(layout) { $1.encode(into: &$0) }
        buffer.writeWireOptional(inlineBytes) { $0.writeWireBytes($1) }
        buffer.writeWireOptional(quotaHeadroom) { $0.writeInteger($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        attributes = try InodeAttributes(from: &buffer)
        layout = try buffer.readWireOptional { try FileLayout(from: &$0) }
        inlineBytes = try buffer.readWireOptional { try $0.readWireBytes(maximumLength: Int(MetaLimits.maximumInlineThreshold)) }
        quotaHeadroom = try buffer.readWireOptional { try $0.readWireInteger() }
    }
}

extension Duration {
    /// Whole milliseconds, clamped to what a u32 wire field holds.
    public var wireMilliseconds: UInt32 {
        UInt32(clamping: milliseconds)
    }
}
