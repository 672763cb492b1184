import RadonWire

extension SQLMetadataStore {
    /// What an open needs in one read: attributes, and for a regular file its layout and (when
    /// inline) its bytes. A file created before any volume existed is placed first (a write).
    public func openState(of inode: UInt64) async throws -> OpenFileReply {
        let reply = try await engine.read { db -> OpenFileReply? in
            let record = try db.inode(inode)
            guard record.kind == .regular else { return OpenFileReply(attributes: record.attributes, layout: nil) }
            guard record.groupID != nil else { return nil }
            db.prefetchLayout(of: record)
            return OpenFileReply(attributes: record.attributes, layout: try db.layout(of: record),
                                 inlineBytes: record.isInline ? try db.inlineBytes(of: inode) : nil,
                                 quotaHeadroom: try self.headroom(of: inode, db))
        }
        if let reply { return reply }
        let layout = try await fileLayout(of: inode)
        let inline = try await readInline(of: inode)
        let headroom = try await quotaHeadroom(of: inode)
        return OpenFileReply(attributes: try await attributes(of: inode), layout: layout, inlineBytes: inline.isInline ? inline.bytes : nil,
                             quotaHeadroom: headroom == .max ? nil : headroom)
    }
}
