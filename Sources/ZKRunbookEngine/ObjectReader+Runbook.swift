import ZKRunbookJSON5

/// The runbook-specific reads of a `with` object: templates and durations, which the JSON5 target knows nothing of.
extension ObjectReader {
    public func template(_ key: String, required: Bool = false) -> Template? {
        guard let node = value(key, required: required, expected: "a string") else { return nil }
        return Template.read(node, what: "'\(key)' in \(context)", diagnostics: diagnostics).map(recorded)
    }

    public func templates(_ key: String, required: Bool = false, nonEmpty: Bool = false) -> [Template]? {
        guard let node = value(key, required: required, expected: "an array of strings") else { return nil }
        guard case .array(let elements) = node.value else {
            typeError(key, node, "an array of strings")
            return nil
        }
        if nonEmpty && elements.isEmpty {
            diagnostics.error(node.location, "'\(key)' in \(context) must not be empty")
            return nil
        }
        let parsed = elements.compactMap { Template.read($0, what: "an element of '\(key)'", diagnostics: diagnostics) }
        return parsed.count == elements.count ? parsed.map(recorded) : nil
    }

    /// Every template read is recorded with the diagnostics: the loader takes those an action's arguments
    /// made as the templates it holds (`Template.held(since:in:)`), so none escapes the reference check.
    private func recorded(_ template: Template) -> Template {
        diagnostics.record(read: template)
        return template
    }

    public func duration(_ key: String, required: Bool = false) -> DurationSpec? {
        guard let node = value(key, required: required, expected: RunbookDuration.expectation) else { return nil }
        return DurationSpec.read(node, what: "'\(key)' in \(context)", diagnostics: diagnostics)
    }

    /// An array of durations (literals or `${parameter}`), e.g. limits to add up.
    public func durations(_ key: String) -> [DurationSpec]? {
        guard let node = value(key, expected: "an array of durations") else { return nil }
        guard case .array(let elements) = node.value else {
            typeError(key, node, "an array of durations")
            return nil
        }
        let parsed = elements.compactMap { DurationSpec.read($0, what: "an element of '\(key)'", diagnostics: diagnostics) }
        return parsed.count == elements.count ? parsed : nil
    }
}

extension Template {
    /// The templates recorded in `diagnostics` since `mark`, in the order they stand in the file.
    static func held(since mark: Int, in diagnostics: DiagnosticCollector, adding derived: [Template] = []) -> [Template] {
        inFileOrder(diagnostics.reads(since: mark).compactMap { $0 as? Template } + derived)
    }

    static func inFileOrder(_ templates: [Template]) -> [Template] {
        templates.enumerated()
            .sorted { ($0.element.location.line, $0.element.location.column, $0.offset) < ($1.element.location.line, $1.element.location.column, $1.offset) }
            .map(\.element)
    }
}
