import Foundation
import RadonTestSupport
import Testing

/// Certificates on a real cluster, with the commands an operator types: a new machine's client
/// certificate mounts and writes, cannot run an operator's command, and is refused once revoked
/// while the cluster's own mount and the admin go on.
@Suite("Certificates on a real cluster")
struct CertificateClusterTests {
    /// The lines each test's script starts with: a 3-node cluster up in `directory`, taken
    /// down on exit, with the mount at DIR/`mount` unmounted first.
    static func clusterUp(in directory: String, unmountingOnExit mount: String) -> String {
        let radonfs = RadonBinary.path
        return """
            trap "fusermount3 -u '\(directory)/\(mount)' > /dev/null 2>&1; '\(radonfs)' down --dir '\(directory)' > /dev/null 2>&1" EXIT
            '\(radonfs)' up --dir '\(directory)' --nodes 3 --layout 2+1 > '\(directory).up.log' 2>&1 || { cat '\(directory).up.log'; exit 1; }
            rm -f '\(directory).up.log'
            """
    }

    @Test func aClientCertificateMountsCannotAdministerAndIsRefusedOnceRevoked() async throws {
        let radonfs = RadonBinary.path
        let directory = "/tmp/radonfs-certs-\(UUID().uuidString.prefix(8))"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let output = try await Shell.check("a client certificate's life", """
            \(Self.clusterUp(in: directory, unmountingOnExit: "laptop"))
            meta=$(python3 -c "import json; print(json.load(open('\(directory)/cluster.json'))['meta']['address'])")
            '\(radonfs)' cert issue --dir '\(directory)/tls' --role client --out '\(directory)/laptop-tls' laptop
            as_laptop="--meta $meta --tls-dir \(directory)/laptop-tls --identity laptop"
            '\(radonfs)' export add laptop / --dir '\(directory)'
            mkdir -p '\(directory)/laptop'
            '\(radonfs)' mount $as_laptop --log-file '\(directory)/laptop.log' '\(directory)/laptop'
            echo from-the-laptop > '\(directory)/laptop/note'
            [ "$(cat '\(directory)/mnt/note')" = from-the-laptop ] || { echo "the cluster's mount does not see the laptop's file" >&2; exit 1; }
            # An operator's command with a client certificate: refused, with the reason.
            if '\(radonfs)' rebuild $as_laptop > '\(directory)/rebuild.out' 2>&1; then echo "a client started a rebuild" >&2; exit 1; fi
            grep -q "may not make request" '\(directory)/rebuild.out' || { cat '\(directory)/rebuild.out' >&2; exit 1; }
            '\(radonfs)' cert revoke --dir '\(directory)/tls' --issued-in '\(directory)/laptop-tls' laptop
            if '\(radonfs)' ls / $as_laptop --meta-timeout 3 > '\(directory)/ls.out' 2>&1; then echo "a revoked certificate listed /" >&2; exit 1; fi
            grep -q "revoked" '\(directory)/ls.out' || { cat '\(directory)/ls.out' >&2; exit 1; }
            # Everyone else goes on.
            '\(radonfs)' ls / --dir '\(directory)' | grep -q note
            echo still-here > '\(directory)/mnt/after'
            echo "laptop mounted and wrote, was refused a rebuild, and was refused once revoked; the rest went on"
            """)
        print(output.split(separator: "\n").last.map(String.init) ?? "")
    }

    /// Issue 12's export test, as a user meets it: a guest certificate exported /shared/pub,
    /// read-only and root-squashed, mounted, and used by a non-root user and by root with real
    /// tools. Writes fail (EROFS), root's private file stays private, and nothing outside the
    /// subtree shows, through the mount or the file verbs.
    @Test func aReadOnlyRootSquashedSubtreeExportHoldsForRealTools() async throws {
        let radonfs = RadonBinary.path
        let directory = "/tmp/radonfs-export-\(UUID().uuidString.prefix(8))"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let output = try await Shell.check("a read-only, root-squashed subtree export", """
            \(Self.clusterUp(in: directory, unmountingOnExit: "guest"))
            m='\(directory)/mnt' g='\(directory)/guest'
            mkdir -p "$m/shared/pub/inner" "$m/secret"
            echo public > "$m/shared/pub/readme"
            echo root-only > "$m/shared/pub/private" && chmod 600 "$m/shared/pub/private"
            echo secret > "$m/secret/plans"
            '\(radonfs)' cert issue --dir '\(directory)/tls' --role client guest > /dev/null
            '\(radonfs)' export add guest /shared/pub --read-only --squash root --dir '\(directory)'
            '\(radonfs)' export list --dir '\(directory)' | grep -q "guest.*/shared/pub.*read-only, root squashed"
            mkdir -p "$g" && chmod 755 "$g"
            '\(radonfs)' mount --dir '\(directory)' --identity guest --log-file '\(directory)/guest.log' "$g" > /dev/null
            findmnt -no OPTIONS "$g" | grep -q '^ro,' || { echo "the guest mount is not read-only" >&2; exit 1; }
            fails() { # fails WHAT MESSAGE COMMAND...: the command must fail, saying MESSAGE
                local what=$1 message=$2; shift 2
                if "$@" > '\(directory)/out' 2>&1; then echo "$what succeeded" >&2; exit 1; fi
                grep -q "$message" '\(directory)/out' || { echo "$what: $(cat '\(directory)/out')" >&2; exit 1; }
            }
            as_nobody() { runuser -u nobody -- "$@"; }
            # The subtree is the root: its files, and nothing else.
            [ "$(as_nobody cat "$g/readme")" = public ]
            [ "$(as_nobody ls "$g" | tr '\n' ' ')" = "inner private readme " ] || { ls -la "$g" >&2; exit 1; }
            [ "$(stat -c %i "$g")" = 1 ]
            [ "$(stat -c %i "$g/inner/..")" = 1 ]
            if find "$g" | grep -q -e plans -e secret -e shared; then echo "something outside the export shows" >&2; exit 1; fi
            # Writes: EROFS, for every tool.
            fails "touch" "Read-only file system" as_nobody touch "$g/new"
            fails "an append" "Read-only file system" as_nobody sh -c "echo x >> '$g/readme'"
            fails "mkdir" "Read-only file system" as_nobody mkdir "$g/d"
            fails "rm" "Read-only file system" rm -f "$g/readme"
            fails "mv" "Read-only file system" mv "$g/readme" "$g/inner/"
            fails "chmod" "Read-only file system" chmod 777 "$g/readme"
            # Root on the guest's machine is nobody to the cluster: root's 0600 file stays shut.
            fails "nobody reading root's private file" "Permission denied" as_nobody cat "$g/private"
            fails "root reading root's private file, squashed" "Permission denied" cat "$g/private"
            # The file verbs see the same export; ".." at its root goes nowhere.
            '\(radonfs)' ls / --dir '\(directory)' --identity guest | grep -q readme
            fails "a get above the root" "No such file" '\(radonfs)' get /../secret/plans '\(directory)/plans' --dir '\(directory)' --identity guest
            fails "a put" "Read-only file system" '\(radonfs)' put /etc/hostname /h --dir '\(directory)' --identity guest
            # The cluster's own mount writes on, and the guest sees it.
            echo later > "$m/shared/pub/later"
            [ "$(as_nobody cat "$g/later")" = later ]
            echo "the guest saw /shared/pub only, could write nothing, and root's private file stayed shut"
            """)
        print(output.split(separator: "\n").last.map(String.init) ?? "")
    }
}
