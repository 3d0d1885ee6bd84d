import Foundation

/// `file`: a read-only probe of a path (exists, size, mode, owner, sha256) for guards.
struct FileProbeAction: ActionKind {
    let name = "file"
    let summary = "read-only probe of a path: exists, isDirectory, size, mode, uid, gid, sha256"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        guard let path = arguments.reader.template("path", required: true) else { return nil }
        return PreparedFileProbe(path: path)
    }
}

struct PreparedFileProbe: PreparedAction {
    var path: Template
    var isReadOnly: Bool { true }
    var templates: [Template] { [path] }

    func describe(_ resolver: TemplateResolver) -> [String] { ["inspect \(path.display(resolver))"] }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let resolved: String
        switch context.resolve(path) {
        case .success(let value): resolved = value
        case .failure(let outcome): return outcome
        }
        guard let info = FileInfo.stat(resolved) else {
            return .success("\(resolved) does not exist", facts: ["exists": .bool(false), "path": .string(resolved)])
        }
        var facts = info.facts
        facts["path"] = .string(resolved)
        if info.isRegular, info.size <= 64 << 20, let digest = try? SHA256.hex(fileAt: resolved) {
            facts["sha256"] = .string(digest)
        }
        return .success("\(resolved) exists", facts: facts)
    }
}
