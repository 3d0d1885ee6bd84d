import Foundation
import ZKRunbookJSON5

/// Reusable runbook parts: a named group of steps written once and included wherever a step may stand.
///
/// A part is its own JSON5 file, `{ part: "node-gates", description: "…", steps: [ … ] }`, in a `parts`
/// folder beside the runbooks; a step list names it with `{ include: "parts/node-gates.json5" }` (a path
/// relative to the including file). Its steps are put in place before the runbook is read, so they are
/// validated with the including runbook's parameters and step ids like any step written there, and every
/// diagnostic points into the part's own file and line. Plans and journals see the steps, never the include.
enum RunbookParts {
    /// Includes within parts are followed this deep: deeper is a cycle or a mistake.
    static let maxDepth = 4

    /// The parts a runbook included, by resolved path, with their text: kept beside a run's copy of its
    /// runbook, so `resume` reads the parts the run started with.
    final class Included {
        var texts: [String: String] = [:]
    }

    /// `node` with every `{ include: … }` in a step array replaced by the part's steps.
    static func expand(
        _ node: JSON5Node, diagnostics: DiagnosticCollector, included: Included = Included(), depth: Int = 0, including: [String] = []
    ) -> JSON5Node {
        switch node.value {
        case .array(let elements):
            var expanded: [JSON5Node] = []
            for element in elements {
                if let include = includePath(element, diagnostics: diagnostics) {
                    expanded += steps(of: include, from: element.location, diagnostics: diagnostics, included: included, depth: depth, including: including)
                } else {
                    expanded.append(expand(element, diagnostics: diagnostics, included: included, depth: depth, including: including))
                }
            }
            return JSON5Node(value: .array(expanded), location: node.location)
        case .object(let object):
            let members = object.members.map { member in
                JSON5Object.Member(
                    key: member.key, keyLocation: member.keyLocation,
                    value: expand(member.value, diagnostics: diagnostics, included: included, depth: depth, including: including))
            }
            return JSON5Node(value: .object(JSON5Object(members: members)), location: node.location)
        default:
            return node
        }
    }

    /// The path an element includes, when it is `{ include: "PATH" }` and nothing else.
    private static func includePath(_ element: JSON5Node, diagnostics: DiagnosticCollector) -> String? {
        guard case .object(let object) = element.value, let include = object["include"] else { return nil }
        guard case .string(let path) = include.value, !path.isEmpty else {
            diagnostics.error(include.location, "'include' must be the path of a part file, e.g. \"parts/node-gates.json5\", found \(include.kindName)")
            return nil
        }
        if let other = object.members.first(where: { $0.key != "include" }) {
            diagnostics.error(
                other.keyLocation, "an include stands for the part's steps and takes nothing else; '\(other.key)' belongs in the part or in a step")
        }
        return path
    }

    private static func steps(
        of path: String, from location: SourceLocation, diagnostics: DiagnosticCollector, included: Included, depth: Int, including: [String]
    ) -> [JSON5Node] {
        let base = (location.file as NSString).deletingLastPathComponent
        let full = path.hasPrefix("/") ? path : (base.isEmpty ? path : base + "/" + path)
        let resolved = (full as NSString).standardizingPath
        if including.contains(resolved) || depth >= maxDepth {
            diagnostics.error(location, "include \(path): parts include each other in a cycle (\((including + [resolved]).joined(separator: " -> ")))")
            return []
        }
        guard let data = FileManager.default.contents(atPath: resolved) else {
            diagnostics.error(location, "include \(path): no part file at \(resolved)")
            return []
        }
        let text = String(decoding: data, as: UTF8.self)
        included.texts[resolved] = text
        let root: JSON5Node
        do { root = try JSON5Parser.parse(text, file: resolved) } catch {
            diagnostics.error(error.location, error.message)
            return []
        }
        guard case .object(let object) = root.value, object["part"] != nil, let steps = object["steps"], case .array(let elements) = steps.value else {
            diagnostics.error(location, "include \(path): \(resolved) is not a part (expected { part: \"NAME\", description: \"…\", steps: [ … ] })")
            return []
        }
        if let unknown = object.members.first(where: { !["part", "description", "steps"].contains($0.key) }) {
            diagnostics.error(unknown.keyLocation, "unknown key '\(unknown.key)' in a part; expected part, description, steps")
        }
        if elements.isEmpty { diagnostics.error(steps.location, "the part \(resolved) has no steps") }
        let expanded = expand(steps, diagnostics: diagnostics, included: included, depth: depth + 1, including: including + [resolved])
        guard case .array(let result) = expanded.value else { return [] }
        return result
    }
}
