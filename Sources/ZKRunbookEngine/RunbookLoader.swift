import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// Everything that can go wrong before a runbook runs: not found, unreadable, or invalid (with every problem).
public enum RunbookError: Error, Sendable, CustomStringConvertible {
    case notFound(name: String, searched: [String], suggestion: String? = nil)
    case unreadable(path: String, reason: String)
    case invalid([Diagnostic])

    public var description: String {
        switch self {
        case .notFound(let name, let searched, let suggestion):
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
            let folders =
                searched.isEmpty
                ? ""
                : "; looked for it as a path and in: \(searched.joined(separator: ", ")) (ZKRUNBOOK_RUNBOOK_PATH sets the folders; `zkrunbook list` lists what is there)"
            return "error: no runbook '\(name)'\(hint)\(folders)"
        case .unreadable(let path, let reason): return InputFileError.unreadable(path: path, reason: reason).description
        case .invalid(let diagnostics): return InputFileError.invalid(diagnostics).description
        }
    }

    /// The same on one line, for a step's failure message and an event.
    public var singleLine: String {
        if case .invalid(let diagnostics) = self { return InputFileError.invalid(diagnostics).singleLine }
        return description
    }
}

/// Finds runbooks by path or by name in the search folders.
public struct RunbookLocator: Sendable {
    public var searchDirectories: [String]

    /// The colon-separated folders of ZKRUNBOOK_RUNBOOK_PATH when it is set; else `./runbooks`, then the
    /// folders that go with the binary wherever it is run from: an installed one's
    /// (`/usr/bin/zkrunbook` → `/usr/share/zkrunbook/runbooks`), a `runbooks` folder beside it, the repository's
    /// for a build tree (`.build/debug/zkrunbook` → the folder above `.build` that holds `Package.swift`), then
    /// `/etc/zkrunbook/runbooks` and `/usr/share/zkrunbook/runbooks`. Each folder once, those that exist.
    public static func standard(
        environment: [String: String] = EnvironmentVariables.values(of: ["ZKRUNBOOK_RUNBOOK_PATH"]), executable: String? = Self.executablePath()
    ) -> RunbookLocator {
        if let custom = environment["ZKRUNBOOK_RUNBOOK_PATH"], !custom.isEmpty {
            return RunbookLocator(searchDirectories: custom.split(separator: ":").map(String.init))
        }
        var folders = ["./runbooks"]
        if let executable {
            let binFolder = URL(fileURLWithPath: executable).deletingLastPathComponent()
            folders.append(binFolder.deletingLastPathComponent().appendingPathComponent("share/zkrunbook/runbooks").path)
            folders.append(binFolder.appendingPathComponent("runbooks").path)
            var folder = binFolder
            for _ in 0..<4 {
                let parent = folder.deletingLastPathComponent()
                if folder.lastPathComponent == ".build", FileManager.default.fileExists(atPath: parent.appendingPathComponent("Package.swift").path) {
                    folders.append(parent.appendingPathComponent("runbooks").path)
                    break
                }
                folder = parent
            }
        }
        folders += ["/etc/zkrunbook/runbooks", "/usr/share/zkrunbook/runbooks"]
        var seen = Set<String>()
        let kept = folders.filter { folder in
            let key = (folder as NSString).standardizingPath
            guard !seen.contains(key) else { return false }
            seen.insert(key)
            return folder == "./runbooks" || folder.hasPrefix("/etc/") || folder.hasPrefix("/usr/share/") || FileManager.default.fileExists(atPath: folder)
        }
        return RunbookLocator(searchDirectories: kept)
    }

    /// This process's executable (/proc/self/exe), symlinks resolved: where an installed or built binary is.
    public static func executablePath() -> String? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (path as NSString).resolvingSymlinksInPath
    }

    public init(searchDirectories: [String]) { self.searchDirectories = searchDirectories }

    public func locate(_ nameOrPath: String) throws(RunbookError) -> String {
        let exists = { (path: String) in access(path, F_OK) == 0 }
        let isPath = nameOrPath.utf8.contains(UInt8(ascii: "/"))
        if isPath || nameOrPath.hasSuffix(".json5") {
            if exists(nameOrPath) { return nameOrPath }
            if isPath { throw .notFound(name: nameOrPath, searched: []) }
        }
        let fileName = nameOrPath.hasSuffix(".json5") ? nameOrPath : nameOrPath + ".json5"
        for directory in searchDirectories {
            let candidate = directory + "/" + fileName
            if exists(candidate) { return candidate }
        }
        let names = Set(all().map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension })
        let wanted = (fileName as NSString).deletingPathExtension
        throw .notFound(name: nameOrPath, searched: searchDirectories, suggestion: ObjectReader.closest(to: wanted, among: names))
    }

    /// Every runbook in the search folders; the first folder wins for a name found twice.
    public func all() -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for directory in searchDirectories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names.sorted() where name.hasSuffix(".json5") && !seen.contains(name) {
                seen.insert(name)
                out.append(directory + "/" + name)
            }
        }
        return out
    }
}

/// Reads a runbook file into a validated `Runbook`, or reports every problem with file:line:column.
public struct RunbookLoader: Sendable {
    public var registry: ActionRegistry

    public init(registry: ActionRegistry = .builtIn) { self.registry = registry }

    public func load(path: String) throws(RunbookError) -> Runbook {
        let text: String
        do {
            guard let decoded = String(validating: try readSmallFile(path), as: UTF8.self) else {
                throw RunbookError.unreadable(path: path, reason: "cannot read the runbook: not UTF-8 text")
            }
            text = decoded
        } catch let error as RunbookError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "cannot read the runbook: \(error)")
        }
        return try load(text: text, path: path)
    }

    public func load(text: String, path: String) throws(RunbookError) -> Runbook {
        let root: JSON5Node
        do {
            root = try JSON5Parser.parse(text, file: path)
        } catch {
            throw .invalid([Diagnostic(location: error.location, severity: .error, message: error.message)])
        }
        let diagnostics = DiagnosticCollector()
        let included = RunbookParts.Included()
        let runbook = decode(RunbookParts.expand(root, diagnostics: diagnostics, included: included), text: text, path: path, diagnostics: diagnostics)
        if diagnostics.hasErrors || runbook == nil {
            throw .invalid(diagnostics.items.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) })
        }
        var result = runbook!
        result.warnings = diagnostics.items
        // Parts under the runbook's folder, by their path from it: what a run keeps beside its copy.
        let folder = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        for (resolved, partText) in included.texts.sorted(by: { $0.key < $1.key }) where resolved.hasPrefix(folder + "/") {
            result.parts.append(RunbookPart(relativePath: String(resolved.dropFirst(folder.count + 1)), text: partText))
        }
        return result
    }

    /// `^[A-Za-z0-9][A-Za-z0-9_-]*$`, checked by hand: a Foundation regular expression is compiled on every
    /// call, and that was 40% of a whole `plan` process.
    static func isIdentifier(_ text: String, letterFirst: Bool = false) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII else { return false }
        let firstOK = letterFirst ? (first.properties.isAlphabetic || first == "_") : (first.properties.isAlphabetic || ("0"..."9").contains(first))
        guard firstOK else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }

    private func decode(_ root: JSON5Node, text: String, path: String, diagnostics: DiagnosticCollector) -> Runbook? {
        guard let top = ObjectReader(root, context: "the runbook", diagnostics: diagnostics) else { return nil }
        let name = top.string("name", required: true)
        if let name, !Self.isIdentifier(name), let node = top.object["name"] {
            diagnostics.error(node.location, "the runbook name '\(name)' may hold only letters, digits, '-' and '_'")
        }
        let description = top.string("description") ?? ""
        let parameters = readParameters(top.object("parameters", context: "'parameters'"), diagnostics: diagnostics)
        let lock = top.template("lock") ?? Template.literal("node", at: top.location)
        var lease: LeaseDeclaration?
        if let leaseReader = top.object("lease", context: "'lease'") {
            let target = leaseReader.template("ensemble", required: true)
            let ttl = leaseReader.duration("ttl")
            let nodes = leaseReader.template("nodes", required: false)
            leaseReader.finish()
            if let target { lease = LeaseDeclaration(target: target, ttl: ttl, nodes: nodes) }
        }
        let defaultTimeout = top.duration("defaultTimeout") ?? .literal(RunbookDuration(milliseconds: 600_000))
        if case .parameter(_, let location) = defaultTimeout {
            diagnostics.error(location, "'defaultTimeout' must be a literal duration")
        }

        let identifiers = StepIdentifiers()
        var sharedRollbacks: [String: Step] = [:] {
            didSet { identifiers.sharedRollbacks = sharedRollbacks }
        }
        var sharedOrder: [String] = []
        if let node = top.value("rollbacks") {
            if case .array(let elements) = node.value {
                for element in elements {
                    if let step = readStep(element, context: "a rollback step", diagnostics: diagnostics, identifiers: identifiers, allowRollback: false) {
                        sharedRollbacks[step.id] = step
                        sharedOrder.append(step.id)
                    }
                }
            } else {
                top.typeError("rollbacks", node, "an array of steps")
            }
        }
        var steps: [Step] = []
        if let node = top.value("steps", required: true, expected: "an array of steps") {
            if case .array(let elements) = node.value {
                if elements.isEmpty { diagnostics.error(node.location, "'steps' is empty: a runbook needs at least one step") }
                for element in elements {
                    guard var step = readStep(element, context: "a step", diagnostics: diagnostics, identifiers: identifiers, allowRollback: true) else {
                        continue
                    }
                    step.rollback = resolveRollbacks(step, identifiers: identifiers, diagnostics: diagnostics)
                    steps.append(step)
                }
            } else {
                top.typeError("steps", node, "an array of steps")
            }
        }
        let afterwards = top.templates("afterwards") ?? []
        top.finish()
        for id in sharedOrder where !identifiers.usedShared.contains(id) {
            diagnostics.warning(sharedRollbacks[id]!.location, "rollback step '\(id)' is not named by any step's 'rollback'")
        }
        guard let name else { return nil }
        var runbook = Runbook(
            name: name, description: description, parameters: parameters, steps: steps, lock: lock,
            defaultTimeout: defaultTimeout.resolve([:]) ?? RunbookDuration(milliseconds: 600_000), sourcePath: path,
            sourceText: text, warnings: [], lease: lease)
        runbook.afterwards = afterwards
        checkReferences(runbook, diagnostics: diagnostics)
        return runbook
    }

    /// Replaces rollback entries written as ids with the shared rollback steps they name.
    private func resolveRollbacks(_ step: Step, identifiers: StepIdentifiers, diagnostics: DiagnosticCollector) -> [Step] {
        step.rollback.map { entry in
            guard entry.actionName == RollbackReference.marker else { return entry }
            identifiers.usedShared.insert(entry.id)
            guard let shared = identifiers.sharedRollbacks[entry.id] else {
                let known = identifiers.sharedRollbacks.keys.sorted()
                diagnostics.error(
                    entry.location,
                    "step '\(step.id)' names rollback '\(entry.id)', which is not in 'rollbacks'"
                        + (known.isEmpty ? " (there is no 'rollbacks' list)" : " (known: \(known.joined(separator: ", ")))"))
                return entry
            }
            return shared
        }
    }

    /// Reads an array of steps nested in an action's arguments.
    private func readStepList(_ node: JSON5Node, context: String, diagnostics: DiagnosticCollector, identifiers: StepIdentifiers) -> [Step]? {
        guard case .array(let elements) = node.value else {
            diagnostics.error(node.location, "\(context) must be an array of steps, found \(node.kindName)")
            return nil
        }
        if elements.isEmpty { diagnostics.error(node.location, "\(context) is empty") }
        var steps: [Step] = []
        for element in elements {
            guard var step = readStep(element, context: "a step of \(context)", diagnostics: diagnostics, identifiers: identifiers, allowRollback: true)
            else { continue }
            step.rollback = resolveRollbacks(step, identifiers: identifiers, diagnostics: diagnostics)
            steps.append(step)
        }
        return steps
    }

    private func readParameters(_ reader: ObjectReader?, diagnostics: DiagnosticCollector) -> [ParameterSpec] {
        guard let reader else { return [] }
        var out: [ParameterSpec] = []
        for member in reader.object.members {
            _ = reader.value(member.key)
            if !Self.isIdentifier(member.key, letterFirst: true) {
                diagnostics.error(member.keyLocation, "parameter name '\(member.key)' may hold only letters, digits, '-' and '_'")
                continue
            }
            if ["steps", "run", "params"].contains(member.key) {
                diagnostics.error(member.keyLocation, "'\(member.key)' is reserved and cannot name a parameter")
                continue
            }
            guard let spec = ObjectReader(member.value, context: "parameter '\(member.key)'", diagnostics: diagnostics) else { continue }
            let typeName = spec.string("type", required: true)
            let type = typeName.flatMap(ParameterType.init(rawValue:))
            if let typeName, type == nil, let node = spec.object["type"] {
                diagnostics.error(
                    node.location,
                    "unknown type '\(typeName)' for parameter '\(member.key)'; expected one of: \(ParameterType.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let description = spec.string("description") ?? ""
            let required = spec.bool("required") ?? false
            let secret = spec.bool("secret") ?? false
            var defaultValue: ParameterValue?
            if let node = spec.value("default"), let type {
                let text: String?
                switch node.value {
                case .string(let value): text = value
                case .integer(let value): text = String(value)
                case .bool(let value): text = String(value)
                default: text = nil
                }
                let probe = ParameterSpec(
                    name: member.key, type: type, description: "", required: false, secret: false, defaultValue: nil, location: node.location)
                switch text.map(probe.parse) {
                case .success(let value)?: defaultValue = value
                case .failure(let problem)?: diagnostics.error(node.location, "default of parameter '\(member.key)': \(problem.message)")
                case nil: diagnostics.error(node.location, "default of parameter '\(member.key)' must be a \(type.rawValue), found \(node.kindName)")
                }
                if required {
                    diagnostics.warning(node.location, "parameter '\(member.key)' is required and has a default; the default is never used")
                }
            }
            spec.finish()
            if let type {
                out.append(
                    ParameterSpec(
                        name: member.key, type: type, description: description, required: required, secret: secret,
                        defaultValue: defaultValue, location: member.keyLocation))
            }
        }
        return out
    }

    private func readStep(
        _ node: JSON5Node, context: String, diagnostics: DiagnosticCollector, identifiers: StepIdentifiers, allowRollback: Bool
    ) -> Step? {
        var label = context
        if case .object(let object) = node.value, let idNode = object["id"], case .string(let id) = idNode.value {
            label = "step '\(id)'"
        }
        guard let reader = ObjectReader(node, context: label, diagnostics: diagnostics) else { return nil }
        let id = reader.string("id", required: true)
        if let id, !Self.isIdentifier(id), let idNode = reader.object["id"] {
            diagnostics.error(idNode.location, "step id '\(id)' may hold only letters, digits, '-' and '_', and must start with a letter or digit")
        }
        if let id {
            // Checked here, before the rest of the step is read, so a duplicate is reported even when the
            // step has other errors too.
            if let first = identifiers.seen[id] {
                diagnostics.error(reader.location, "duplicate step id '\(id)' (first used at line \(first.line))")
            } else {
                identifiers.seen[id] = reader.location
            }
        }
        let description = reader.string("description", required: true)
        let actionName = reader.string("action", required: true)
        let withNode = reader.value("with")
        var action: (any PreparedAction)?
        var templates: [Template] = []
        if let actionName {
            if let kind = registry.kind(named: actionName) {
                let argumentsNode = withNode ?? JSON5Node(value: .object(JSON5Object(members: [])), location: reader.location)
                if let argumentReader = ObjectReader(argumentsNode, context: "the 'with' of \(label)", diagnostics: diagnostics) {
                    var arguments = ActionArguments(reader: argumentReader, registry: registry, stepID: id ?? "", asProbe: false)
                    arguments.readSteps = { [self] node, context in
                        // Nested steps hold their own templates, checked in their own scope.
                        let mark = diagnostics.readCount
                        defer { diagnostics.forgetReads(after: mark) }
                        return self.readStepList(node, context: context, diagnostics: diagnostics, identifiers: identifiers)
                    }
                    let readsBefore = diagnostics.readCount
                    action = kind.prepare(arguments)
                    templates = Template.held(since: readsBefore, in: diagnostics, adding: action?.derivedTemplates ?? [])
                    argumentReader.finish()
                    if let exec = action as? ExecAction, case .shell = exec.command {
                        diagnostics.warning(
                            reader.location,
                            "\(label) runs a shell script (shell: true); parameters reach it only as ZKRUNBOOK_PARAM_* environment variables")
                    }
                }
            } else if let node = reader.object["action"] {
                let hint = ObjectReader.closest(to: actionName, among: Set(registry.names)).map { "did you mean '\($0)'? " } ?? ""
                diagnostics.error(node.location, "unknown action '\(actionName)' in \(label); \(hint)known actions: \(registry.names.joined(separator: ", "))")
            }
        }
        var guards: [Condition] = []
        if let node = reader.value("guards") {
            if case .array(let elements) = node.value {
                for (index, element) in elements.enumerated() {
                    guard let guardReader = ObjectReader(element, context: "guard \(index + 1) of \(label)", diagnostics: diagnostics) else { continue }
                    if let condition = ConditionReader.read(guardReader, registry: registry, stepID: id ?? "") { guards.append(condition) }
                    guardReader.finish()
                }
            } else {
                reader.typeError("guards", node, "an array of conditions")
            }
        }
        var when: Condition?
        if let whenReader = reader.object("when", context: "the 'when' of \(label)") {
            when = ConditionReader.read(whenReader, registry: registry, stepID: id ?? "")
            whenReader.finish()
        }
        let timeout = reader.duration("timeout")
        let retry = readRetry(reader, diagnostics: diagnostics)
        var onFailure = FailurePolicy.abort
        if let policy = reader.string("onFailure") {
            if let parsed = FailurePolicy(rawValue: policy) {
                onFailure = parsed
            } else if let node = reader.object["onFailure"] {
                diagnostics.error(node.location, "'onFailure' in \(label) must be \"abort\" or \"continue\", found '\(policy)'")
            }
        }
        let rollbackWhenFailed = reader.bool("rollbackWhenFailed") ?? false
        let keepWhenLaterFails = reader.bool("keepWhenLaterFails") ?? false
        var rollback: [Step] = []
        if let node = reader.value("rollback") {
            if !allowRollback {
                diagnostics.error(node.location, "a rollback step cannot have a rollback of its own")
            } else if case .array(let elements) = node.value {
                for (index, element) in elements.enumerated() {
                    switch element.value {
                    case .string(let reference):
                        rollback.append(RollbackReference.placeholder(id: reference, at: element.location))
                    case .object(var object):
                        if object["id"] == nil, let id {
                            let generated = JSON5Node(value: .string("\(id)-rollback-\(index + 1)"), location: element.location)
                            object.members.insert(JSON5Object.Member(key: "id", keyLocation: element.location, value: generated), at: 0)
                        }
                        let withID = JSON5Node(value: .object(object), location: element.location)
                        if let step = readStep(
                            withID, context: "a rollback step of \(label)", diagnostics: diagnostics, identifiers: identifiers, allowRollback: false)
                        {
                            rollback.append(step)
                        }
                    default:
                        diagnostics.error(element.location, "each 'rollback' entry of \(label) must be a step id from 'rollbacks' or a step object")
                    }
                }
            } else {
                reader.typeError("rollback", node, "an array of step ids or steps")
            }
        }
        if rollbackWhenFailed && rollback.isEmpty {
            diagnostics.warning(reader.location, "\(label) sets rollbackWhenFailed but has no rollback")
        }
        reader.finish()
        guard let id, let description, let actionName, let action else { return nil }
        return Step(
            id: id, description: description, actionName: actionName, action: action, templates: templates, guards: guards, when: when, timeout: timeout,
            retry: retry, onFailure: onFailure, rollback: rollback, rollbackWhenFailed: rollbackWhenFailed, keepWhenLaterFails: keepWhenLaterFails,
            location: reader.location)
    }

    private func readRetry(_ reader: ObjectReader, diagnostics: DiagnosticCollector) -> RetryPolicy {
        guard let node = reader.value("retries") else { return .none }
        var policy = RetryPolicy.none
        switch node.value {
        case .integer(let count):
            guard (0...100).contains(count) else {
                diagnostics.error(node.location, "'retries' in \(reader.context) must be between 0 and 100, found \(count)")
                return policy
            }
            policy.retries = Int(count)
        case .object:
            guard let retry = ObjectReader(node, context: "'retries' of \(reader.context)", diagnostics: diagnostics) else { return policy }
            policy.retries = Int(retry.integer("count", required: true, range: 0...100) ?? 0)
            policy.backoff = retry.duration("backoff") ?? policy.backoff
            policy.maxBackoff = retry.duration("maxBackoff") ?? policy.maxBackoff
            if let factorNode = retry.value("factor") {
                switch factorNode.value {
                case .integer(let value) where value >= 1: policy.factor = Double(value)
                case .double(let value) where value >= 1 && value <= 10: policy.factor = value
                default: diagnostics.error(factorNode.location, "'factor' in 'retries' must be a number from 1 to 10")
                }
            }
            retry.finish()
        default:
            reader.typeError("retries", node, "a count or an object { count, backoff, factor, maxBackoff }")
        }
        return policy
    }

    /// Where a step stands, for reference checks: the steps of its own list by position, the steps of the
    /// outer runbook already done when a nested list runs, and whether `${node.*}` has a value there.
    private struct Scope {
        var index: [String: Int]
        var outer: Set<String>
        /// The node fields of the enclosing per-node action; nil outside one.
        var nodeFields: Set<String>?
    }

    /// Every `${...}` must name a parameter, a run field, a fact of a step that runs before it, or (in a
    /// per-node list) a field of the node.
    private func checkReferences(_ runbook: Runbook, diagnostics: DiagnosticCollector) {
        let parameters = Dictionary(runbook.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var declaredFacts: [String: FactNames] = [:]
        func collect(_ steps: [Step]) {
            for step in steps {
                if let names = step.action.yieldedFacts { declaredFacts[step.id] = names }
                collect(step.action.nestedSteps)
            }
        }
        collect(runbook.steps)
        func check(_ template: Template, in label: String, scope: Scope, latestStep: Int, allowSame: Bool) {
            for reference in template.references {
                switch reference {
                case .parameter(let name, let accessor):
                    guard let spec = parameters[name] else {
                        let hint = ObjectReader.closest(to: name, among: Set(parameters.keys)).map { "; did you mean '\($0)'?" } ?? ""
                        diagnostics.error(template.location, "\(label) refers to ${\(name)}, which is not a parameter\(hint)")
                        continue
                    }
                    if accessor != nil && spec.type != .duration {
                        diagnostics.error(template.location, "${\(name).\(accessor!)} needs a duration parameter; '\(name)' is a \(spec.type.rawValue)")
                    }
                case .stepFact(let step, let fact):
                    if let names = declaredFacts[step], !names.contains(fact) {
                        diagnostics.error(
                            template.location, "\(label) refers to fact '\(fact)' of step '\(step)', which it does not yield; \(names.hint(for: fact))")
                    }
                    if scope.outer.contains(step) { continue }
                    guard let index = scope.index[step] else {
                        diagnostics.error(template.location, "\(label) refers to step '\(step)', which does not exist")
                        continue
                    }
                    if index > latestStep || (index == latestStep && !allowSame) {
                        diagnostics.error(template.location, "\(label) refers to step '\(step)', which has not run yet at that point")
                    }
                case .node(let field):
                    guard let fields = scope.nodeFields else {
                        diagnostics.error(template.location, "\(label) refers to ${node.\(field)}, which has a value only in a per-node step list")
                        continue
                    }
                    if !fields.contains(field) {
                        let hint = ObjectReader.closest(to: field, among: fields).map { "did you mean '\($0)'? " } ?? ""
                        diagnostics.error(
                            template.location,
                            "\(label) refers to ${node.\(field)}, which a node does not have; \(hint)(fields: \(fields.sorted().joined(separator: ", ")))")
                    }
                case .run:
                    continue
                }
            }
        }
        var durationsChecked = Set<SourceLocation>()
        func checkDuration(_ spec: DurationSpec?, in label: String) {
            guard case .parameter(let name, let location)? = spec else { return }
            guard durationsChecked.insert(location).inserted else { return }
            guard let parameter = parameters[name] else {
                diagnostics.error(location, "\(label) refers to ${\(name)}, which is not a parameter")
                return
            }
            if parameter.type != .duration {
                diagnostics.error(location, "\(label) needs a duration; parameter '\(name)' is a \(parameter.type.rawValue)")
            }
        }
        func checkStep(_ step: Step, index: Int, isRollback: Bool, scope: Scope) {
            let label = "step '\(step.id)'"
            for template in step.templates { check(template, in: label, scope: scope, latestStep: index, allowSame: isRollback) }
            for condition in step.guards {
                for template in ConditionReader.templates(in: condition) {
                    check(template, in: "a guard of \(label)", scope: scope, latestStep: index, allowSame: isRollback)
                }
            }
            for template in step.when.map(ConditionReader.templates(in:)) ?? [] {
                check(template, in: "the 'when' of \(label)", scope: scope, latestStep: index, allowSame: isRollback)
            }
            checkDuration(step.timeout, in: "the timeout of \(label)")
            checkDuration(step.retry.backoff, in: "the retry backoff of \(label)")
            checkDuration(step.retry.maxBackoff, in: "the retry maxBackoff of \(label)")
        }
        func checkList(_ steps: [Step], scope: Scope) {
            for (index, step) in steps.enumerated() {
                checkStep(step, index: index, isRollback: false, scope: scope)
                // An undo may read the facts of the undos written before it (restart back only what was restored).
                var undoScope = scope
                for undo in step.rollback where undo.actionName != RollbackReference.marker {
                    checkStep(undo, index: index, isRollback: true, scope: undoScope)
                    undoScope.outer.insert(undo.id)
                }
                let nested = step.action.nestedSteps
                if !nested.isEmpty {
                    let outer = scope.outer.union(steps.prefix(index).map(\.id))
                    let positions = Dictionary(nested.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
                    checkList(nested, scope: Scope(index: positions, outer: outer, nodeFields: step.action.nestedNodeFields))
                }
            }
        }
        let positions = Dictionary(runbook.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let top = Scope(index: positions, outer: [], nodeFields: nil)
        checkList(runbook.steps, scope: top)
        // Durations an action holds (sleep's duration, agent-run's budget): parameters of type duration too.
        for case let spec as DurationSpec in diagnostics.reads(since: 0) { checkDuration(spec, in: "a duration") }
        for reference in runbook.lock.references {
            if case .parameter = reference { continue }
            diagnostics.error(runbook.lock.location, "'lock' may refer only to parameters")
        }
        check(runbook.lock, in: "'lock'", scope: top, latestStep: -1, allowSame: false)
        if let lease = runbook.lease {
            for reference in lease.target.references {
                if case .parameter = reference { continue }
                diagnostics.error(lease.target.location, "'lease.ensemble' may refer only to parameters")
            }
            check(lease.target, in: "'lease.ensemble'", scope: top, latestStep: -1, allowSame: false)
            if let nodes = lease.nodes {
                for reference in nodes.references {
                    if case .parameter = reference { continue }
                    diagnostics.error(nodes.location, "'lease.nodes' may refer only to parameters")
                }
                check(nodes, in: "'lease.nodes'", scope: top, latestStep: -1, allowSame: false)
            }
        }
    }
}

/// What loading one file accumulates: step ids seen (forward, rollback and nested steps share one
/// namespace) and the shared 'rollbacks', which nested step lists may name too.
final class StepIdentifiers: @unchecked Sendable {
    var seen: [String: SourceLocation] = [:]
    var sharedRollbacks: [String: Step] = [:]
    var usedShared: Set<String> = []
}

/// A rollback written as a step id, kept as a placeholder step until the 'rollbacks' list is read.
enum RollbackReference {
    static let marker = "\u{0}rollback-reference"

    static func placeholder(id: String, at location: SourceLocation) -> Step {
        Step(
            id: id, description: "", actionName: marker, action: SleepAction(duration: .literal(RunbookDuration(milliseconds: 0))),
            templates: [], guards: [], when: nil, timeout: nil, retry: .none, onFailure: .abort, rollback: [], rollbackWhenFailed: false, location: location)
    }
}
