import Foundation
import Logging
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// Exports judged by the metadata service, with real certificates over TLS and a client that
/// behaves as a hostile one would: it names inodes it was never shown, sends uid 0, writes to
/// a read-only export. Both engines.
@Suite("Exports")
struct ExportTests {
    /// The namespace the tests share: /shared/pub (exported), /shared/pub/inner, /secret.
    struct Tree {
        let shared: InodeAttributes
        let pub: InodeAttributes
        let inner: InodeAttributes
        let secret: InodeAttributes
        let secretFile: InodeAttributes
        let pubFile: InodeAttributes
    }

    static let alice = MetaCaller(uid: 1000, gid: 1000)

    static func makeTree(_ admin: MetaClient) async throws -> Tree {
        let shared = try await admin.makeDirectory(parent: 1, name: "shared", permissions: 0o755, caller: .root)
        let pub = try await admin.makeDirectory(parent: shared.inode, name: "pub", permissions: 0o777, caller: .root)
        let inner = try await admin.makeDirectory(parent: pub.inode, name: "inner", permissions: 0o777, caller: .root)
        let secret = try await admin.makeDirectory(parent: 1, name: "secret", permissions: 0o755, caller: .root)
        let secretFile = try await admin.create(parent: secret.inode, name: "s", permissions: 0o644, exclusive: true, caller: .root).attributes
        let pubFile = try await admin.create(parent: pub.inode, name: "mine", permissions: 0o600, exclusive: true, caller: .root).attributes
        return Tree(shared: shared, pub: pub, inner: inner, secret: secret, secretFile: secretFile, pubFile: pubFile)
    }

    /// A metadata service over TLS on `engine`, an admin client and a way to connect as `name`.
    static func withService(
        _ engine: TestEngine, _ body: (MetaClient, (String) async throws -> MetaClient) async throws -> Void
    ) async throws {
        try await withTestCertificates { certificates in
            let (server, fixture) = try await startServiceOverTLS(engine, certificates)
            var connections: [WireConnection] = []
            func connect(_ name: String, _ role: WireRoles) async throws -> MetaClient {
                let connection = try await WireConnection.connect(to: server.localAddress, credentials: try certificates.credentials(name, role))
                connections.append(connection)
                return MetaClient(connection: connection)
            }
            let admin = try await connect("operator", .admin)
            do {
                try await body(admin) { name in try await connect(name, .client) }
            } catch {
                connections.forEach { $0.close() }
                try await server.close()
                throw error
            }
            connections.forEach { $0.close() }
            try await server.close()
            withExtendedLifetime(fixture) {}
        }
    }

    static func expect(_ status: WireStatus, _ what: String, _ call: () async throws -> Void) async {
        do {
            try await call()
            Issue.record("\(what) was allowed")
        } catch let error as WireError {
            #expect(error.status == status, "\(what): \(error)")
        } catch let error as FileSystemError {
            #expect(error.errno == status.errno, "\(what): \(error)")
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test(arguments: TestEngine.all) func aSubtreeExportShowsNothingOutsideIt(_ engine: TestEngine) async throws {
        try await Self.withService(engine) { admin, connect in
            let tree = try await Self.makeTree(admin)
            let saved = try await admin.addExport(ExportRule(name: "guest", path: "/shared/pub"))
            #expect(saved.root == tree.pub.inode)
            let guest = try await connect("guest")

            let grant = try await guest.exportRoot()
            #expect(grant.root.inode == tree.pub.inode && !grant.readOnly && grant.path == "/shared/pub")
            // Inside: lookups, listings, getattr of what they showed.
            let inner = try await guest.lookup(parent: tree.pub.inode, name: "inner", caller: Self.alice)
            #expect(inner.inode == tree.inner.inode)
            _ = try await guest.attributes(of: tree.pubFile.inode)
            // ".." of the export's root is the root itself, by lookup and in its listing.
            #expect(try await guest.lookup(parent: tree.pub.inode, name: "..", caller: Self.alice).inode == tree.pub.inode)
            let listing = try await guest.readDirectory(tree.pub.inode)
            #expect(listing.first { $0.name == ".." }?.attributes.inode == tree.pub.inode)
            #expect(try await guest.lookup(parent: tree.inner.inode, name: "..", caller: Self.alice).inode == tree.pub.inode)
            // So it is by a lookup with lookahead, and what that sends ahead is inside.
            #expect(try await guest.lookup(parent: tree.pub.inode, name: "..", caller: Self.alice, following: 10).attributes.inode == tree.pub.inode)
            let ahead = try await guest.lookup(parent: tree.pub.inode, name: "inner", caller: Self.alice, following: 10)
            #expect(ahead.attributes.inode == tree.inner.inode)
            #expect(ahead.following.map(\.name) == ["mine"])
            for entry in ahead.following { _ = try await guest.attributes(of: entry.attributes.inode) }

            // Outside, by guessed inode numbers: refused, whatever the request.
            for outside in [1, tree.shared.inode, tree.secret.inode, tree.secretFile.inode] {
                await Self.expect(.permissionDenied, "getattr of \(outside)") { _ = try await guest.attributes(of: outside) }
            }
            await Self.expect(.permissionDenied, "a listing of /") { _ = try await guest.readDirectory(1) }
            await Self.expect(.permissionDenied, "a lookup in /secret") {
                _ = try await guest.lookup(parent: tree.secret.inode, name: "s", caller: Self.alice)
            }
            await Self.expect(.permissionDenied, "a lookahead in /secret") {
                _ = try await guest.lookup(parent: tree.secret.inode, name: "s", caller: Self.alice, following: 10)
            }
            await Self.expect(.permissionDenied, "a lookahead in /") {
                _ = try await guest.lookup(parent: 1, name: "shared", caller: Self.alice, following: 10)
            }
            await Self.expect(.permissionDenied, "inline data outside") { _ = try await guest.readInline(of: tree.secretFile.inode) }
            await Self.expect(.permissionDenied, "a layout outside") { _ = try await guest.fileLayout(of: tree.secretFile.inode) }
            await Self.expect(.permissionDenied, "a link from outside in") {
                _ = try await guest.link(tree.secretFile.inode, newParent: tree.pub.inode, newName: "stolen", caller: Self.alice)
            }
            await Self.expect(.permissionDenied, "a rename out of the export") {
                try await guest.rename(parent: tree.pub.inode, name: "inner", newParent: tree.secret.inode, newName: "x", caller: Self.alice)
            }
            let session = try await guest.openSession(clientName: "guest").session
            await Self.expect(.permissionDenied, "an open outside") { _ = try await guest.openFile(session: session, inode: tree.secretFile.inode) }
            // A gone inode reads as gone, not as refused.
            await Self.expect(.notFound, "getattr of an inode that never was") { _ = try await guest.attributes(of: 999_999) }

            // A directory an operator moves out of the export leaves with everything below it.
            _ = try await guest.create(parent: tree.inner.inode, name: "f", permissions: 0o644, exclusive: true, caller: Self.alice)
            let file = try await guest.lookup(parent: tree.inner.inode, name: "f", caller: Self.alice)
            try await admin.rename(parent: tree.pub.inode, name: "inner", newParent: tree.secret.inode, newName: "inner", caller: .root)
            await Self.expect(.permissionDenied, "the moved directory") { _ = try await guest.attributes(of: tree.inner.inode) }
            await Self.expect(.permissionDenied, "a file below it") { _ = try await guest.attributes(of: file.inode) }

            // A certificate without an export is refused outright; removing one refuses at once.
            let stranger = try await connect("stranger")
            await Self.expect(.permissionDenied, "a client with no export") { _ = try await stranger.exportRoot() }
            try await admin.removeExport(named: "guest")
            await Self.expect(.permissionDenied, "a client whose export went") { _ = try await guest.attributes(of: tree.pub.inode) }
            await Self.expect(.notFound, "removing it twice") { try await admin.removeExport(named: "guest") }
        }
    }

    @Test(arguments: TestEngine.all) func readOnlyAndSquashedExportsHoldOnTheService(_ engine: TestEngine) async throws {
        try await Self.withService(engine) { admin, connect in
            let tree = try await Self.makeTree(admin)
            _ = try await admin.addExport(ExportRule(name: "reader", path: "/shared/pub", readOnly: true, squash: .root))
            _ = try await admin.addExport(ExportRule(name: "squashed", path: "/shared", squash: .root))
            _ = try await admin.addExport(ExportRule(name: "ranged", path: "/", allowedUIDs: 1000...1999))
            let reader = try await connect("reader")
            let squashed = try await connect("squashed")
            let ranged = try await connect("ranged")

            #expect(try await reader.exportRoot().readOnly)
            await Self.expect(.readOnly, "a create on a read-only export") {
                _ = try await reader.create(parent: tree.pub.inode, name: "new", permissions: 0o644, exclusive: true, caller: Self.alice)
            }
            await Self.expect(.readOnly, "a chmod on a read-only export") {
                _ = try await reader.setAttributes(of: tree.pubFile.inode, AttributeChanges(permissions: 0o777), caller: .root)
            }
            await Self.expect(.readOnly, "an inline write on a read-only export") {
                _ = try await reader.writeInline(tree.pubFile.inode, offset: 0, bytes: [1])
            }
            let session = try await reader.openSession(clientName: "reader").session
            await Self.expect(.readOnly, "a data token on a read-only export") {
                _ = try await reader.acquireDataToken(session: session, inode: tree.pubFile.inode, wait: .zero)
            }
            // Root squash: uid 0 is nobody, so root's 0600 file cannot be opened, nor /shared
            // (0755, root's) written.
            let opener = SessionInodeRequest.Opener(caller: .root, read: true, write: false)
            await Self.expect(.permissionDenied, "root opening root's 0600 file, squashed") {
                _ = try await reader.openFile(session: session, inode: tree.pubFile.inode, opener: opener)
            }
            await Self.expect(.permissionDenied, "root creating in root's 0755 directory, squashed") {
                _ = try await squashed.makeDirectory(parent: tree.shared.inode, name: "d", permissions: 0o755, caller: .root)
            }
            let made = try await squashed.makeDirectory(parent: tree.pub.inode, name: "d", permissions: 0o755, caller: .root)
            #expect(made.uid == ExportRule.nobody && made.gid == ExportRule.nobody)
            // A uid range: others are refused, those inside act as themselves.
            await Self.expect(.permissionDenied, "uid 0 outside the range") {
                _ = try await ranged.makeDirectory(parent: tree.pub.inode, name: "r", permissions: 0o755, caller: .root)
            }
            #expect(try await ranged.makeDirectory(parent: tree.pub.inode, name: "r", permissions: 0o755, caller: Self.alice).uid == 1000)

            // An operator lists what was saved, and a path that is not a directory is refused.
            let names = try await admin.exports().map(\.name)
            #expect(names == ["ranged", "reader", "squashed"])
            await Self.expect(.notFound, "an export of a missing path") { _ = try await admin.addExport(ExportRule(name: "x", path: "/nope")) }
            await Self.expect(.notDirectory, "an export of a file") { _ = try await admin.addExport(ExportRule(name: "x", path: "/secret/s")) }
            // A client cannot manage exports.
            await Self.expect(.permissionDenied, "a client adding an export") { _ = try await squashed.addExport(ExportRule(name: "squashed", path: "/")) }
        }
    }
}
