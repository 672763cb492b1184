import NIOCore

/// The extra network paths of storage nodes on the wire: a node may listen on several
/// addresses (the paper's one storio per port), and clients spread fragment traffic over them.
///
/// Node lists sit inside arrays (`GroupMap.nodes`, `ClusterStatus.nodes`), where a field added to
/// each element would break older readers. So the extra addresses of every node of a list
/// travel as one trailing field of the message holding the list: an array, parallel to the
/// node array, of each node's extra addresses. It is written only when some node has any, and
/// read only when bytes remain, so old and new peers read each other's messages unchanged.
public enum NodePaths {
    /// Extra addresses one node may register (five paths in all: the paper's nodes had four).
    public static let maximumExtraAddresses = 15
}

extension ByteBuffer {
    /// Writes the trailing field of extra addresses for a node list (nothing when none has any).
    mutating func writeTrailingExtraAddresses(_ lists: [[WireAddress]]) {
        guard lists.contains(where: { !$0.isEmpty }) else { return }
        writeWireArray(lists) { buffer, list in buffer.writeWireArray(list) { $0.writeMetaAddress($1) } }
    }

    /// Reads the trailing field of extra addresses for a list of `count` nodes: one empty list
    /// per node when the sender wrote none.
    mutating func readTrailingExtraAddresses(count: Int) throws -> [[WireAddress]] {
        guard readableBytes > 0 else { return Array(repeating: [], count: count) }
        let lists = try readWireArray(maximumCount: count) { buffer in
            try buffer.readWireArray(maximumCount: NodePaths.maximumExtraAddresses) { try $0.readMetaAddress() }
        }
        guard lists.count == count else { throw WireError(.badRequest, "extra addresses for \(lists.count) nodes, the list has \(count)") }
        return lists
    }
}

extension NodeEndpoint {
    /// Every path to the node, `address` first.
    public var paths: [WireAddress] { [address] + extraAddresses }
}

extension NodeInfo {
    /// Every address the node registered, `address` first.
    public var paths: [WireAddress] { [address] + extraAddresses }
}
