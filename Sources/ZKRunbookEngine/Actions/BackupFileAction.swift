import Foundation

/// `backup-file`: copy a file into the run's directory, keeping mode and owner, for a later `restore-file`.
struct BackupFileAction: ArgumentsDecodable {
    static let name = "backup-file"
    static let summary = "copy a file into the run's backup folder (mode and owner kept) for restore-file"

    var path: Template
    var destination: Template?
    var isReadOnly: Bool { false }

    enum CodingKeys: String, CodingKey {
        case path
        case destination = "to"
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let target = destination?.display(resolver) ?? "${run.dir}/backups/<step>/"
        return ["back up \(path.display(resolver)) to \(target)"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let source = try context.resolved(path)
        guard let info = FileInfo.stat(source), info.isRegular else {
            return .failure(cause: .fileMissing, message: "\(source) is not a regular file; nothing to back up")
        }
        var target: String
        if let destination {
            target = try context.resolved(destination)
        } else {
            target = context.resolver.runDirectory + "/backups/" + context.stepID
        }
        if target.hasSuffix("/") || FileInfo.stat(target)?.isDirectory == true || destination == nil {
            do {
                try FileManager.default.createDirectory(
                    atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                return .failure(cause: .ioError, message: "cannot create backup folder \(target): \(error.localizedDescription)")
            }
            target = (target as NSString).appendingPathComponent((source as NSString).lastPathComponent)
        }
        do {
            let digest = try copyFileAtomically(from: source, to: target, mode: info.mode, uid: info.uid, gid: info.gid)
            var facts = info.facts
            facts["path"] = .string(source)
            facts["backupPath"] = .string(target)
            facts["sha256"] = .string(digest)
            return .success("backed up \(source) to \(target)", facts: facts)
        } catch {
            return .failure(cause: .ioError, message: error.message)
        }
    }
}
