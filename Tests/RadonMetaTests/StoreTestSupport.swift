import Foundation
import Logging
import NIOCore
import RadonMeta
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// A clock tests move by hand, for file times and liveness.
final class ManualClock: Sendable {
    private let current = Mutex(Timestamp(seconds: 1_800_000_000, nanoseconds: 0))

    var now: Timestamp { current.withLock { $0 } }

    func advance(seconds: Double) {
        current.withLock { time in
            let total = Double(time.seconds) + Double(time.nanoseconds) / 1e9 + seconds
            let whole = total.rounded(.down)
            time = Timestamp(seconds: Int64(whole), nanoseconds: UInt32((total - whole) * 1e9))
        }
    }
}

/// A fresh directory under /tmp, removed when the test is done with it.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/radonfs-meta-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FileSystemError.io("mkdtemp failed") }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A store on `engine` (a SQLite file in a temporary directory, or a fresh database on the
/// test PostgreSQL server) with a manual clock, and the callers tests act as.
struct StoreFixture {
    let engine: TestEngine
    let directory: TemporaryDirectory
    let clock: ManualClock
    let store: SQLMetadataStore
    /// The PostgreSQL database's URL (nil on SQLite).
    let databaseURL: String?

    static let alice = MetaCaller(uid: 1000, gid: 1000)
    static let bob = MetaCaller(uid: 1001, gid: 1001)
    static let root = MetaCaller.root
    static let rootInode: UInt64 = 1

    /// `trashRetention` is the cluster's setting the store starts with: 0 (no trash, removed
    /// files go at once) unless a test of the trash asks for one.
    init(_ engine: TestEngine = .sqlite, durability: SQLiteEngine.Durability = .full, trashRetention: UInt64 = 0) async throws {
        self.engine = engine
        directory = try TemporaryDirectory()
        let clock = ManualClock()
        self.clock = clock
        switch engine {
        case .sqlite:
            databaseURL = nil
            store = try SQLMetadataStore(path: directory.path + "/meta.db", durability: durability, clock: { clock.now })
        case .postgres:
            let url = try await PostgresTestServer.freshDatabase()
            databaseURL = url
            let postgres = try await PostgresEngine.connect(url: url, logger: PostgresTestServer.quietLogger)
            store = SQLMetadataStore(engine: postgres, clock: { clock.now })
        }
        _ = try await store.trashSettings(TrashSettingsRequest(retentionSeconds: trashRetention))
    }

    /// A second store on the same database, as a restarted service opens it.
    func reopened() async throws -> SQLMetadataStore {
        if let databaseURL {
            return SQLMetadataStore(engine: try await PostgresEngine.connect(url: databaseURL, logger: PostgresTestServer.quietLogger))
        }
        return try SQLMetadataStore(path: directory.path + "/meta.db")
    }

    /// A directory under the root, world-writable (1777 with `sticky`), for non-root tests.
    func sharedDirectory(_ name: FileName, sticky: Bool = false) async throws -> UInt64 {
        let directory = try await store.makeDirectory(MakeDirectoryRequest(parent: Self.rootInode, name: name, permissions: 0o777, caller: .root))
        _ = try await store.setAttributes(SetAttributesRequest(
            inode: directory.inode, changes: AttributeChanges(permissions: sticky ? 0o1777 : 0o777), caller: .root))
        return directory.inode
    }

    @discardableResult
    func createFile(_ name: FileName, in parent: UInt64, caller: MetaCaller = .root, permissions: UInt32 = 0o644) async throws -> CreateReply {
        try await store.create(CreateRequest(parent: parent, name: name, kind: .regular, permissions: permissions, exclusive: true, caller: caller))
    }

    @discardableResult
    func makeDirectory(_ name: FileName, in parent: UInt64, caller: MetaCaller = .root, permissions: UInt32 = 0o755) async throws -> InodeAttributes {
        try await store.makeDirectory(MakeDirectoryRequest(parent: parent, name: name, permissions: permissions, caller: caller))
    }

    func lookup(_ name: FileName, in parent: UInt64, caller: MetaCaller = .root) async throws -> InodeAttributes {
        try await store.lookup(NameRequest(parent: parent, name: name, caller: caller))
    }

    func rename(_ name: FileName, in parent: UInt64, to newName: FileName, in newParent: UInt64, mode: MetaRenameMode = .replace, caller: MetaCaller = .root) async throws {
        _ = try await store.rename(RenameRequest(parent: parent, name: name, newParent: newParent, newName: newName, mode: mode, caller: caller))
    }

    /// Registers `count` storage nodes (one host each unless `hosts` says otherwise).
    @discardableResult
    func registerNodes(_ count: Int, hosts: [String]? = nil, free: UInt64 = 1 << 40) async throws -> [UInt32] {
        var ids: [UInt32] = []
        for index in 0..<count {
            let acknowledgement = try await store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 9000 + index),
                hostID: hosts?[index] ?? "", dataDirectory: "/data/\(index)", pid: Int32(100 + index),
                capacity: 1 << 40, free: free))
            ids.append(acknowledgement.nodeID)
        }
        return ids
    }
}

/// Expects `message` to decode from its encoding as itself, consuming every byte.
func expectRoundTrip<M: WireMessage & Equatable>(_ message: M, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var buffer = ByteBuffer()
    message.encode(into: &buffer)
    #expect(try M(from: &buffer) == message, sourceLocation: sourceLocation)
    #expect(buffer.readableBytes == 0, sourceLocation: sourceLocation)
}

/// Expects `body` to throw a `FileSystemError` with `errno`.
func expectErrno(_ errno: Int32, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected errno \(errno), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as FileSystemError {
        #expect(error.errno == errno, "got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected errno \(errno), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw a `WireError` with `status`.
func expectStatus(_ status: WireStatus, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected status \(status), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as WireError {
        #expect(error.status == status, "got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected status \(status), got \(error)", sourceLocation: sourceLocation)
    }
}

/// A metadata service on `engine` behind a TLS server whose certificate `certificates` issued
/// ("meta"), judging roles as the daemon does: for the tests of roles and exports.
func startServiceOverTLS(_ engine: TestEngine, _ certificates: TestCertificates) async throws -> (server: WireServer, store: StoreFixture) {
    let store = try await StoreFixture(engine)
    var logger = Logger(label: "test.meta")
    logger.logLevel = .error
    let service = MetaService(store: store.store, logger: logger)
    let server = try await WireServer.start(
        host: "127.0.0.1", port: 0, credentials: try certificates.credentials("meta", .meta), access: MetaOpcode.access, logger: logger
    ) { request in
        await service.handle(request)
    }
    return (server, store)
}
