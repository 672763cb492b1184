import NIOCore

/// The virtual extended attribute that shows and sets where new files of a directory go
/// (`radonfs.layout`, as CephFS has `ceph.dir.layout`): read on any file or directory, it says
/// `volume=NAME codec=CODEC k=K m=M block_size=BYTES`; written on a directory with `volume=NAME`
/// (or just `NAME`), files created below it from then on go to that volume. Never listed by
/// listxattr (`cp -a` and `rsync -X` would copy it onto files, where it cannot be set).
public enum LayoutAttribute {
    public static let name = "radonfs.layout"

    /// What a read of the attribute answers for a file or directory in `volume`.
    public static func describe(_ volume: VolumeSettings) -> String {
        "volume=\(volume.name) codec=\(volume.codec) k=\(volume.k) m=\(volume.n - volume.k) block_size=\(volume.blockSize)"
    }

    /// The volume name a written value names: `volume=NAME` (other `key=value` words, as a read
    /// gives them, are ignored) or a bare `NAME`; nil when it names none.
    public static func volumeName(in value: String) -> String? {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        if let named = words.first(where: { $0.hasPrefix("volume=") }) {
            let name = String(named.dropFirst("volume=".count))
            return name.isEmpty ? nil : name
        }
        guard words.count == 1, !words[0].contains("=") else { return nil }
        return words[0]
    }
}

/// `relayoutBegin`: where `inode`'s blocks would go in volume `volumeID`.
public struct RelayoutBeginRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var volumeID: UInt32

    public init(inode: UInt64, volumeID: UInt32) {
        self.inode = inode
        self.volumeID = volumeID
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(inode, volumeID) }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        volumeID = try buffer.readWireInteger()
    }
}

/// The file's layout now and the one it would have; `changeTime` is its ctime now, which the
/// commit checks (any write, truncate or attribute change moves it).
public struct RelayoutBeginReply: WireMessage, Hashable {
    public var source: FileLayout
    public var target: FileLayout
    public var changeTime: Timestamp

    public init(source: FileLayout, target: FileLayout, changeTime: Timestamp) {
        self.source = source
        self.target = target
        self.changeTime = changeTime
    }

    public func encode(into buffer: inout ByteBuffer) {
        source.encode(into: &buffer)
        target.encode(into: &buffer)
        changeTime.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        source = try FileLayout(from: &buffer)
        target = try FileLayout(from: &buffer)
        changeTime = try Timestamp(from: &buffer)
    }
}

/// `relayoutCommit`: `inode` now lives in `target` (its blocks `writtenBlocks` written there),
/// if its ctime is still `changeTime` and no client has it open; its old fragments are then
/// queued for deletion.
public struct RelayoutCommitRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var volumeID: UInt32
    public var groupID: UInt32
    public var changeTime: Timestamp
    public var writtenBlocks: [BlockRun]

    public init(inode: UInt64, volumeID: UInt32, groupID: UInt32, changeTime: Timestamp, writtenBlocks: [BlockRun]) {
        self.inode = inode
        self.volumeID = volumeID
        self.groupID = groupID
        self.changeTime = changeTime
        self.writtenBlocks = writtenBlocks
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(inode, volumeID, groupID)
        changeTime.encode(into: &buffer)
        buffer.writeBlockRuns(writtenBlocks)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        volumeID = try buffer.readWireInteger()
        groupID = try buffer.readWireInteger()
        changeTime = try Timestamp(from: &buffer)
        writtenBlocks = try buffer.readBlockRuns()
    }
}

extension MetaClient {
    public func relayoutBegin(_ inode: UInt64, to volumeID: UInt32) async throws -> RelayoutBeginReply {
        try await call(.relayoutBegin, RelayoutBeginRequest(inode: inode, volumeID: volumeID))
    }

    /// Throws `staleVersion` when the file changed or is open (try again later).
    public func relayoutCommit(_ request: RelayoutCommitRequest) async throws -> InodeAttributes {
        try await call(.relayoutCommit, request)
    }
}
