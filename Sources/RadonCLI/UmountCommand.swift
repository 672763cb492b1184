import ArgumentParser
import RadonMount

/// `radonfs umount`: ends a RadonFS mount (the mount process then exits).
struct UmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umount",
        abstract: "Unmount a RadonFS mount point.",
        discussion: """
            Unmounts with umount2 as root, fusermount3 -u otherwise. A mount in use fails with \
            a clear message unless --lazy, which detaches it now and ends it when the last open \
            file is closed.
            """
    )

    @Flag(name: [.customShort("l"), .long], help: "Detach now even if busy; finish when no longer in use.")
    var lazy = false

    @Argument(help: ArgumentHelp("The mount point.", valueName: "mountpoint"))
    var mountPoint: String

    func run() throws {
        do {
            try Unmount.unmount(mountPoint, lazy: lazy)
        } catch {
            throw CLIError("\(error)")
        }
    }
}
