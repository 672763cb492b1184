import NIOCore

/// A lookup that also asks for the entries that follow the name in its directory's listing
/// order (readdir order), with their attributes: what a client scanning a directory name by
/// name (`ls -l` without readdirplus, `find`, `rsync`, a `stat` of every file) will look up
/// next, in one round trip instead of one each.
///
/// The service checks the lookup as `lookup` does (search permission on the directory) and
/// sends the following entries only to a caller who may also list the directory (read
/// permission); to anyone else it answers the lookup alone. It never follows "." or "..".
public struct LookaheadRequest: WireMessage, Hashable {
    public var parent: UInt64
    public var name: FileName
    public var caller: MetaCaller
    /// How many following entries to send at most (clamped to `MetaLimits.maximumDirectoryBatch`).
    public var following: UInt32

    public init(parent: UInt64, name: FileName, caller: MetaCaller, following: UInt32) {
        self.parent = parent
        self.name = name
        self.caller = caller
        self.following = following
    }

    /// The plain lookup this one contains.
    public var lookup: NameRequest { NameRequest(parent: parent, name: name, caller: caller) }

    public func encode(into buffer: inout ByteBuffer) {
        lookup.encode(into: &buffer)
        buffer.writeInteger(following)
    }

    public init(from buffer: inout ByteBuffer) throws {
        let lookup = try NameRequest(from: &buffer)
        parent = lookup.parent
        name = lookup.name
        caller = lookup.caller
        following = try buffer.readWireInteger()
    }
}

/// The looked-up name's attributes, and up to the asked number of entries after it in
/// listing order (fewer at the directory's end; none for a caller who may not list it).
public struct LookaheadReply: WireMessage, Hashable {
    public var attributes: InodeAttributes
    public var following: [DirectoryEntry]

    public init(attributes: InodeAttributes, following: [DirectoryEntry]) {
        self.attributes = attributes
        self.following = following
    }

    public func encode(into buffer: inout ByteBuffer) {
        attributes.encode(into: &buffer)
        DirectoryListing(entries: following).encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        attributes = try InodeAttributes(from: &buffer)
        following = try DirectoryListing(from: &buffer).entries
    }
}
