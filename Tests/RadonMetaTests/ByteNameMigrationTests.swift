import Foundation
import RadonMeta
import RadonWire
import Testing

/// Databases written before names were bytes hold them as TEXT, which never equals the BLOB a
/// lookup binds now: migration `v3-byte-names` must convert them so old names keep resolving.
@Suite("Names stored as TEXT by older databases")
struct ByteNameMigrationTests {
    @Test func textNamesAndTargetsStillResolveAfterTheMigration() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/meta.db"
        do {
            let store = try SQLMetadataStore(path: path)
            _ = try await store.create(CreateRequest(parent: 1, name: "old-é", kind: .regular, permissions: 0o644, exclusive: true, caller: .root))
            _ = try await store.makeSymbolicLink(MakeSymbolicLinkRequest(parent: 1, name: "link", target: Array("old-é".utf8), caller: .root))
        }
        // Turn the database back into what v2 wrote: TEXT names and targets, v3 not applied.
        let downgrade = Process()
        downgrade.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        downgrade.arguments = ["-cmd", ".timeout 10000", path, """
            UPDATE dentry SET name = CAST(name AS TEXT);
            UPDATE inode SET symlink_target = CAST(symlink_target AS TEXT) WHERE symlink_target IS NOT NULL;
            DELETE FROM grdb_migrations WHERE identifier = 'v3-byte-names';
            SELECT count(*) FROM dentry WHERE typeof(name) = 'text';
            """]
        let output = Pipe()
        downgrade.standardOutput = output
        try downgrade.run()
        downgrade.waitUntilExit()
        let textNames = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(downgrade.terminationStatus == 0)
        #expect(textNames.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "the downgrade left no TEXT names to migrate")

        let store = try SQLMetadataStore(path: path)
        let file = try await store.lookup(NameRequest(parent: 1, name: "old-é", caller: .root))
        #expect(file.kind == .regular)
        let link = try await store.lookup(NameRequest(parent: 1, name: "link", caller: .root))
        #expect(try await store.readSymbolicLink(link.inode) == Array("old-é".utf8))
        // Uniqueness holds across old and new rows: the same bytes are the same name.
        await expectErrno(EEXIST) {
            _ = try await store.create(CreateRequest(parent: 1, name: "old-é", kind: .regular, permissions: 0o644, exclusive: true, caller: .root))
        }
    }
}
