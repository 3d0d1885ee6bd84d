import Foundation

/// `file`: a read-only probe of a path (exists, size, mode, owner, sha256) for guards.
struct FileProbeAction: ArgumentsDecodable {
    static let name = "file"
    static let summary = "read-only probe of a path: exists, isDirectory, size, mode, uid, gid, sha256"

    var path: Template
    var isReadOnly: Bool { true }

    func describe(_ resolver: TemplateResolver) -> [String] { ["inspect \(path.display(resolver))"] }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let resolved = try context.resolved(path)
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
