import Foundation
import RadonTestSupport
import Testing

/// Issue 14's trash test, as a user meets it: a file removed through the mount of a real
/// cluster is listed by `radonfs trash list`, comes back byte for byte with `trash restore`,
/// and once removed again and purged, leaves the trash and the storage nodes; a file removed
/// while open keeps working through its descriptor and comes back with what was written after.
@Suite("The trash on a real cluster")
struct TrashClusterTests {
    @Test func aDeletedFileRestoredFromTheTrashIsIdenticalAndPurgeFreesIt() async throws {
        let radonfs = RadonBinary.path
        let directory = "/tmp/radonfs-trash-\(UUID().uuidString.prefix(8))"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let output = try await Shell.check("rm, trash list, restore, cmp, purge", """
            \(CertificateClusterTests.clusterUp(in: directory, unmountingOnExit: "mnt"))
            d='\(directory)' m='\(directory)/mnt'
            trash() { '\(radonfs)' trash "$@" --dir "$d"; }
            trash_empty() { trash list --json | python3 -c "import json, sys; sys.exit(json.load(sys.stdin) != [])"; }
            fragments() { { find "$d" -type f -path "*/g*/$1.*" 2> /dev/null || true; } | wc -l; }
            # 6 MiB and 1 byte of pattern bytes: several blocks and a partial last one.
            python3 -c "import random; random.seed(14); open('$d/original', 'wb').write(random.randbytes(6 * 1048576 + 1))"
            cp "$d/original" "$m/data.bin"
            rm "$m/data.bin"
            [ ! -e "$m/data.bin" ] || { echo "data.bin is still there after rm" >&2; exit 1; }
            trash list --json > "$d/list.json"
            id=$(python3 - "$d/list.json" <<'PY'
            import json, sys
            entries = json.load(open(sys.argv[1]))
            assert [(e["path"], e["size"], e["parentGone"]) for e in entries] == [("/data.bin", 6 * 1048576 + 1, False)], entries
            print(entries[0]["id"])
            PY
            )
            # fsck takes the trashed file's fragments for a file's, not for orphans.
            '\(radonfs)' fsck --dir "$d" > "$d/fsck.out" || { cat "$d/fsck.out" >&2; exit 1; }
            status=$('\(radonfs)' status --dir "$d")
            [[ "$status" == *"Trash: 1 file, 6.0 MiB"* ]] || { echo "$status" >&2; exit 1; }
            trash restore "$id"
            # The mount may answer from its name cache for up to entry_timeout (1 s).
            for i in $(seq 30); do [ -e "$m/data.bin" ] && break; sleep 0.1; done
            cmp "$d/original" "$m/data.bin"
            trash_empty || { echo "the restored file is still listed" >&2; exit 1; }
            # A file removed while open stays usable through its descriptor, and what was
            # written after the rm is in the trash once it is closed.
            python3 - "$m" <<'PY'
            import os, sys
            with open(f"{sys.argv[1]}/open.log", "wb+") as f:
                f.write(b"before\\n"); f.flush()
                os.unlink(f"{sys.argv[1]}/open.log")
                f.write(b"after\\n"); f.flush(); os.fsync(f.fileno())
                f.seek(0); assert f.read() == b"before\\nafter\\n"
            PY
            open_id=$(trash list --json | python3 -c "import json, sys; print([e['id'] for e in json.load(sys.stdin) if e['path'] == '/open.log'][0])")
            trash restore "$open_id"
            for i in $(seq 30); do [ -e "$m/open.log" ] && break; sleep 0.1; done
            [ "$(cat "$m/open.log")" = "$(printf 'before\\nafter')" ] || { echo "open.log came back as: $(cat "$m/open.log")" >&2; exit 1; }
            # Removed again and purged: gone from the trash, its fragments deleted.
            rm "$m/open.log"
            rm "$m/data.bin"
            [ "$(fragments "$id")" -gt 0 ] || { echo "no fragment files of inode $id while in the trash" >&2; exit 1; }
            trash purge --all
            trash_empty || { echo "purged file still listed" >&2; exit 1; }
            for i in $(seq 100); do [ "$(fragments "$id")" = 0 ] && break; sleep 0.1; done
            [ "$(fragments "$id")" = 0 ] || { echo "fragments of inode $id left after purge: $(fragments "$id")" >&2; exit 1; }
            trash retention
            echo "removed, listed, restored identical, purged and freed"
            """)
        print(output.split(separator: "\n").last.map(String.init) ?? "")
    }
}
