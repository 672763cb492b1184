import ArgumentParser
import Foundation
import RadonWire

/// `radonfs share smb-password`: sets the share account's SMB password in the state
/// directory's own password database (smbpasswd over a configuration with the same paths).
struct ShareSMBPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smb-password",
        abstract: "Set the SMB password of the share's account (read from stdin, one line).",
        discussion: """
            Adds the account to STATE-DIR's password database, or changes its password, with \
            `smbpasswd -c CONF -a -s`. The user must exist on this machine (useradd). Example: \
            `printf '%s\\n' \"$PASSWORD\" | radonfs share smb-password --state-dir /var/lib/radonfs-smb --user editor`.
            """
    )

    @OptionGroup var account: SambaAccountOptions

    func run() throws {
        do {
            let samba = SambaConfiguration(
                path: "/", shareName: "unused", listenAddresses: ["127.0.0.1"],
                stateDirectory: account.stateDirectory, user: account.user)
            try samba.validate()
            let smbpasswd = ExternalTool(name: "smbpasswd", package: "samba")
            _ = try smbpasswd.locate()
            try SambaAccount.requireUnixUser(account.user)
            let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            let password = input.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !password.isEmpty else { throw ShareConfigurationError("no password on stdin (one line)") }
            try SambaAccount.prepareStateDirectory(samba)
            try PrivateState.writeFile(Array(samba.renderGlobals().utf8), to: samba.passwordConfigurationPath)
            let result = try smbpasswd.run(["-c", samba.passwordConfigurationPath, "-a", "-s", account.user], input: "\(password)\n\(password)\n")
            guard result.status == 0 else {
                throw ShareConfigurationError("smbpasswd exited \(result.status): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            print("SMB password set for \(account.user) in \(samba.stateDirectory)")
        } catch let error as ShareConfigurationError {
            throw CLIError(error.description)
        }
    }
}
