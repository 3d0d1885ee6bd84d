import Foundation

/// `restore-file`: put a backed-up file back atomically, with the mode and owner it had when backed up.
struct RestoreFileAction: DeclaredAction {
    static let name = "restore-file"
    static let summary = "restore a file from a backup-file step (atomic rename, mode and owner kept)"

    var path: Template
    var from: Template
    var isReadOnly: Bool { false }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["restore \(path.display(resolver)) from \(from.display(resolver))"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([path, from])
        let (target, source) = (values[0], values[1])
        guard let info = FileInfo.stat(source), info.isRegular else {
            return .failure(cause: .fileMissing, message: "backup \(source) is missing; cannot restore \(target)")
        }
        do {
            let digest = try copyFileAtomically(from: source, to: target, mode: info.mode, uid: info.uid, gid: info.gid)
            return .success("restored \(target)", facts: ["path": .string(target), "sha256": .string(digest)])
        } catch {
            return .failure(cause: .ioError, message: error.message)
        }
    }
}

extension RestoreFileAction {
    init?(_ arguments: ActionArguments) {
        let reader = arguments.reader
        let backupStep = reader.string("backupStep")
        var path = reader.template("path")
        var from = reader.template("from")
        if let backupStep {
            if from != nil {
                reader.diagnostics.error(reader.location, "give either 'backupStep' or 'from', not both")
            }
            from = Template(
                segments: [.reference(.stepFact(step: backupStep, fact: "backupPath"))], location: reader.location,
                source: "${steps.\(backupStep).backupPath}")
            if path == nil {
                path = Template(
                    segments: [.reference(.stepFact(step: backupStep, fact: "path"))], location: reader.location,
                    source: "${steps.\(backupStep).path}")
            }
        }
        guard let from else {
            reader.diagnostics.error(reader.location, "restore-file needs 'backupStep' (the id of a backup-file step) or 'from' and 'path'")
            return nil
        }
        guard let path else {
            reader.diagnostics.error(reader.location, "restore-file with 'from' also needs 'path'")
            return nil
        }
        self.init(path: path, from: from)
    }
}
