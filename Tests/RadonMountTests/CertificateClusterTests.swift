import Foundation
import RadonTestSupport
import Testing

/// Certificates on a real cluster, with the commands an operator types: a new machine's client
/// certificate mounts and writes, cannot run an operator's command, and is refused once revoked
/// while the cluster's own mount and the admin go on.
@Suite("Certificates on a real cluster")
struct CertificateClusterTests {
    @Test func aClientCertificateMountsCannotAdministerAndIsRefusedOnceRevoked() async throws {
        let radonfs = RadonBinary.path
        let directory = "/tmp/radonfs-certs-\(UUID().uuidString.prefix(8))"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let output = try await Shell.check("a client certificate's life", """
            trap "fusermount3 -u '\(directory)/laptop' > /dev/null 2>&1; '\(radonfs)' down --dir '\(directory)' > /dev/null 2>&1" EXIT
            '\(radonfs)' up --dir '\(directory)' --nodes 3 --layout 2+1 > '\(directory).up.log' 2>&1 || { cat '\(directory).up.log'; exit 1; }
            rm -f '\(directory).up.log'
            meta=$(python3 -c "import json; print(json.load(open('\(directory)/cluster.json'))['meta']['address'])")
            '\(radonfs)' cert issue --dir '\(directory)/tls' --role client --out '\(directory)/laptop-tls' laptop
            as_laptop="--meta $meta --tls-dir \(directory)/laptop-tls --identity laptop"
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
}
