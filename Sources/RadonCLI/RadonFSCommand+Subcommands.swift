import ArgumentParser

extension RadonFSCommand {
    /// Every subcommand, in the order `--help` lists them. Each lives in its own file.
    static let allSubcommands: [any ParsableCommand.Type] = [
        UpCommand.self,
        DownCommand.self,
        StatusCommand.self,
        MetaCommand.self,
        StorageCommand.self,
        CACommand.self,
        CertCommand.self,
        ExportCommand.self,
        VolumeCommand.self,
        LayoutCommand.self,
        QuotaCommand.self,
        TrashCommand.self,
        PutCommand.self,
        GetCommand.self,
        LsCommand.self,
        StatCommand.self,
        RmCommand.self,
        MkdirCommand.self,
        BenchCommand.self,
        TestbedCommand.self,
        MountCommand.self,
        UmountCommand.self,
        ShareCommand.self,
        RebuildCommand.self, ScrubCommand.self, FsckCommand.self, NodeCommand.self,
    ]
}
