import Foundation
import ZKRunbookJSON5

/// `edit-properties`: set or remove `key=value` lines in a Java properties file such as zoo.cfg.
///
/// A built-in action rather than `sed -i`, because a value substituted into a sed expression can carry sed
/// commands (the `e` flag runs a shell): here keys and values are data, never code. The file is rewritten
/// atomically with its mode and owner; comments, order and untouched lines stay as they were.
struct EditPropertiesAction: DeclaredAction {
    static let name = "edit-properties"
    static let summary = "set or remove key=value lines in a properties file (zoo.cfg), atomically"

    var path: Template
    var assignments: [(Template, Template)]
    var removals: [Template]
    var isReadOnly: Bool { false }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["edit \(path.display(resolver))"] + assignments.map { "  set \($0.0.display(resolver))=\($0.1.display(resolver))" }
            + removals.map { "  remove \($0.display(resolver))" }
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        var resolved: [String] = []
        for template in [path] + assignments.flatMap({ [$0.0, $0.1] }) + removals {
            resolved.append(try context.resolved(template))
        }
        let file = resolved[0]
        var sets: [(String, String)] = []
        for index in 0..<assignments.count { sets.append((resolved[1 + 2 * index], resolved[2 + 2 * index])) }
        let removes = Array(resolved.dropFirst(1 + 2 * assignments.count))
        for (key, value) in sets where key.isEmpty || key.contains(where: { $0 == "=" || $0.isNewline }) || value.contains(where: \.isNewline) {
            return .failure(cause: .invalidArgument, message: "cannot set '\(key)': keys must be non-empty without '=' or line breaks, values without line breaks")
        }
        guard let info = FileInfo.stat(file), info.isRegular, let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            return .failure(cause: .fileMissing, message: "\(file) is not a readable text file")
        }
        let (edited, previous) = PropertiesEditor.apply(to: text, set: sets, remove: removes)
        var facts: [String: FactValue] = ["path": .string(file), "changed": .bool(edited != text)]
        for (key, value) in previous { facts["previous." + key] = value.map(FactValue.string) ?? .null }
        if edited == text { return .success("\(file) already as wanted", facts: facts) }
        let temporary = file + ".zkrunbook-edit-\(getpid())"
        do {
            try Data(edited.utf8).write(to: URL(fileURLWithPath: temporary))
            defer { unlink(temporary) }
            facts["sha256"] = .string(try copyFileAtomically(from: temporary, to: file, mode: info.mode, uid: info.uid, gid: info.gid))
        } catch let error as FileCopyError {
            return .failure(cause: .ioError, message: error.message)
        } catch {
            return .failure(cause: .ioError, message: "cannot write \(temporary): \(error.localizedDescription)")
        }
        return .success("edited \(file)", facts: facts)
    }
}

extension EditPropertiesAction {
    init?(_ arguments: ActionArguments) {
        let reader = arguments.reader
        let path = reader.template("path", required: true)
        var assignments: [(Template, Template)] = []
        if let set = reader.object("set") {
            for member in set.object.members {
                guard let value = set.template(member.key) else { continue }
                assignments.append((Template.literal(member.key, at: member.keyLocation), value))
            }
            set.finish()
        }
        if let pairs = reader.value("setPairs") {
            if case .array(let elements) = pairs.value {
                for element in elements {
                    guard let pair = ObjectReader(element, context: "an entry of 'setPairs'", diagnostics: reader.diagnostics) else { continue }
                    if let key = pair.template("key", required: true), let value = pair.template("value", required: true) {
                        assignments.append((key, value))
                    }
                    pair.finish()
                }
            } else {
                reader.typeError("setPairs", pairs, "an array of { key, value }")
            }
        }
        let removals = reader.templates("remove") ?? []
        if assignments.isEmpty && removals.isEmpty {
            reader.diagnostics.error(reader.location, "edit-properties needs 'set', 'setPairs' or 'remove'")
        }
        guard let path else { return nil }
        self.init(path: path, assignments: assignments, removals: removals)
    }
}

/// Line-preserving edits of `key=value` files.
public enum PropertiesEditor {
    /// Sets each key (replacing its first line, dropping repeats, appending when absent) and removes keys.
    /// Returns the new text and each touched key's previous value.
    public static func apply(to text: String, set: [(String, String)], remove: [String]) -> (String, [(String, String?)]) {
        var lines = text.components(separatedBy: "\n")
        let trailingNewline = lines.last == ""
        if trailingNewline { lines.removeLast() }
        var previous: [(String, String?)] = []
        func key(of line: String) -> String? {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("!"), let equals = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                return nil
            }
            return trimmed[..<equals].trimmingCharacters(in: .whitespaces)
        }
        func value(of line: String) -> String {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let equals = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" })!
            return trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        for (wanted, newValue) in set {
            var found = false
            var old: String?
            lines = lines.compactMap { line in
                guard key(of: line) == wanted else { return line }
                if found { return nil }
                found = true
                old = value(of: line)
                return "\(wanted)=\(newValue)"
            }
            if !found { lines.append("\(wanted)=\(newValue)") }
            previous.append((wanted, old))
        }
        for unwanted in remove {
            var old: String?
            lines = lines.filter { line in
                guard key(of: line) == unwanted else { return true }
                old = old ?? value(of: line)
                return false
            }
            previous.append((unwanted, old))
        }
        return (lines.joined(separator: "\n") + (trailingNewline || !lines.isEmpty ? "\n" : ""), previous)
    }
}
