import Foundation
import RadonTestSupport
import Testing

/// What a fresh `radonfs up` leaves on disk is its owner's alone, whatever the umask it was
/// started with: fragments (with the systematic codec, a file's bytes verbatim), the metadata
/// database and its WAL, the CA's and every certificate's key, logs, port files and a backup.
@Suite("State on disk is private")
struct PrivateStateTests {
    @Test("a cluster started with umask 000: DIR 0711, every state directory 0700, every file 0600")
    func freshClusterStateIsPrivate() async throws {
        let radonfs = RadonBinary.path
        let directory = "/tmp/radonfs-modes-\(UUID().uuidString.prefix(8))"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let output = try await Shell.check("modes of a fresh cluster", """
            umask 000
            trap "'\(radonfs)' down --dir '\(directory)' > /dev/null 2>&1" EXIT
            '\(radonfs)' up --dir '\(directory)' --nodes 3 --layout 2+1 > '\(directory).up.log' 2>&1 || { cat '\(directory).up.log'; exit 1; }
            rm -f '\(directory).up.log'
            head -c 3000000 /dev/urandom > '\(directory)/mnt/blocks'
            head -c 100 /dev/urandom > '\(directory)/mnt/inline'
            sync '\(directory)/mnt/blocks'
            '\(radonfs)' meta backup --dir '\(directory)' --to '\(directory)/meta.backup' > /dev/null
            [ "$(stat -c %a '\(directory)')" = 711 ] || { echo "DIR is $(stat -c %a '\(directory)'), not 711" >&2; exit 1; }
            # Everything under DIR but the mount: no permission for group or others.
            open=$(find '\(directory)' -path '\(directory)/mnt' -prune -o -perm /077 -printf '%m %p\\n' | grep -v " \(directory)$" || true)
            [ -z "$open" ] || { echo "readable by others:"; echo "$open"; exit 1; } >&2
            fragments=$(find '\(directory)/storage' -type f -path '*/g*' | wc -l)
            [ "$fragments" -gt 0 ] || { echo "no fragment file to check" >&2; exit 1; }
            ls '\(directory)'/meta/meta.db-wal '\(directory)'/tls/ca.key '\(directory)'/tls/client.key '\(directory)'/tls/storage-0.key > /dev/null
            [ "$(stat -c %a '\(directory)/tls')" = 700 ] || { echo "DIR/tls is not 700" >&2; exit 1; }
            echo "$fragments fragment files, the database, its WAL, the CA and every certificate's key, logs and the backup: all private"
            """)
        print(output.split(separator: "\n").last.map(String.init) ?? "")
    }
}
