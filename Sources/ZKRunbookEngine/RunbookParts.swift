import Foundation
import ZKRunbookJSON5

/// Reusable runbook parts: a named group of steps written once and included wherever a step may stand.
///
/// A part is its own JSON5 file, `{ part: "node-gates", description: "…", steps: [ … ] }`, in a `parts`
/// folder beside the runbooks; a step list names it with `{ include: "parts/node-gates.json5" }` (a path
/// relative to the including file). Its steps are put in place before the runbook is read, so they are
/// validated with the including runbook's parameters and step ids like any step written there, and every
/// diagnostic points into the part's own file and line. Plans and journals see the steps, never the include.
///
/// A part may take values: it declares them (`parameters: { set: "the zoo.cfg keys this roll sets" }`), uses
/// them as `${part.set}` in its steps, and each include gives every one (`{ include: "…", with: { set: "…" } }`),
/// so one part stands for several similar groups of steps (enable-quorum-tls's three rolls).
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
                    expanded += steps(
                        of: include.path, values: include.values, from: element.location, diagnostics: diagnostics, included: included, depth: depth,
                        including: including)
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

    /// The path an element includes and the values it gives, when it is `{ include: "PATH", with: { … } }`.
    private static func includePath(_ element: JSON5Node, diagnostics: DiagnosticCollector) -> (path: String, values: [String: (String, SourceLocation)])? {
        guard case .object(let object) = element.value, let include = object["include"] else { return nil }
        guard case .string(let path) = include.value, !path.isEmpty else {
            diagnostics.error(include.location, "'include' must be the path of a part file, e.g. \"parts/node-gates.json5\", found \(include.kindName)")
            return nil
        }
        if let other = object.members.first(where: { $0.key != "include" && $0.key != "with" }) {
            diagnostics.error(
                other.keyLocation, "an include stands for the part's steps and takes only 'with'; '\(other.key)' belongs in the part or in a step")
        }
        var values: [String: (String, SourceLocation)] = [:]
        if let given = object["with"] {
            if case .object(let pairs) = given.value {
                for member in pairs.members {
                    if case .string(let text) = member.value.value {
                        values[member.key] = (text, member.value.location)
                    } else {
                        diagnostics.error(member.value.location, "'with.\(member.key)' of an include must be a string, found \(member.value.kindName)")
                    }
                }
            } else {
                diagnostics.error(given.location, "'with' of an include must be an object of the part's values, found \(given.kindName)")
            }
        }
        return (path, values)
    }

    /// `node` with `${part.NAME}` replaced by the include's value in every string; a name the part does not
    /// declare is an error where it is written.
    static func substitute(_ node: JSON5Node, _ values: [String: String], declared: [String] = [], diagnostics: DiagnosticCollector) -> JSON5Node {
        switch node.value {
        case .string(var text):
            guard text.contains("${part.") else { return node }
            // A value that is the whole string and reads true or false is that boolean (a step's flag).
            if text.hasPrefix("${part."), text.hasSuffix("}"), let value = values[String(text.dropFirst(7).dropLast())],
                value == "true" || value == "false"
            {
                return JSON5Node(value: .bool(value == "true"), location: node.location)
            }
            for (name, value) in values { text = text.replacingOccurrences(of: "${part.\(name)}", with: value) }
            // A declared value the include left out is said once, at the include.
            if let range = text.range(of: "${part."), case let rest = String(text[range.upperBound...].prefix { $0 != "}" }), !declared.contains(rest) {
                diagnostics.error(node.location, "${part.\(rest)}: the part declares no value '\(rest)' (its 'parameters' say which it takes)")
            }
            return JSON5Node(value: .string(text), location: node.location)
        case .array(let elements):
            return JSON5Node(value: .array(elements.map { substitute($0, values, declared: declared, diagnostics: diagnostics) }), location: node.location)
        case .object(let object):
            let members = object.members.map { member in
                JSON5Object.Member(
                    key: member.key, keyLocation: member.keyLocation, value: substitute(member.value, values, declared: declared, diagnostics: diagnostics))
            }
            return JSON5Node(value: .object(JSON5Object(members: members)), location: node.location)
        default:
            return node
        }
    }

    private static func steps(
        of path: String, values: [String: (String, SourceLocation)], from location: SourceLocation, diagnostics: DiagnosticCollector,
        included: Included, depth: Int, including: [String]
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
        if let unknown = object.members.first(where: { !["part", "description", "parameters", "steps"].contains($0.key) }) {
            diagnostics.error(unknown.keyLocation, "unknown key '\(unknown.key)' in a part; expected part, description, parameters, steps")
        }
        if elements.isEmpty { diagnostics.error(steps.location, "the part \(resolved) has no steps") }
        var declared: [String] = []
        if let parameters = object["parameters"] {
            if case .object(let names) = parameters.value {
                declared = names.members.map(\.key)
            } else {
                diagnostics.error(parameters.location, "'parameters' of a part must be an object: { NAME: \"what it is\" }")
            }
        }
        for name in declared where values[name] == nil {
            diagnostics.error(location, "include \(path): the part takes '\(name)': give it in 'with'")
        }
        for (name, value) in values where !declared.contains(name) {
            diagnostics.error(
                value.1, "include \(path): the part takes no value '\(name)' (it takes: \(declared.isEmpty ? "none" : declared.joined(separator: ", ")))")
        }
        let filled = substitute(steps, values.mapValues(\.0), declared: declared, diagnostics: diagnostics)
        let expanded = expand(filled, diagnostics: diagnostics, included: included, depth: depth + 1, including: including + [resolved])
        guard case .array(let result) = expanded.value else { return [] }
        return result
    }
}
