import Foundation
import Testing
import ZKRunbookCLI
import ZKRunbookEngine
import ZKRunbookTestSupport

/// What every runbook zkrunbook ships must declare, read from the runbooks themselves with every action
/// zkrunbook knows: a new runbook that changes an ensemble cannot land without its fence.
struct ShippedRunbookTests {
    func shipped() throws -> [Runbook] {
        let folder = repositoryRoot + "/runbooks"
        let loader = RunbookLoader(registry: CLI.registry)
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json5") }.sorted().map {
            try loader.load(path: folder + "/" + $0)
        }
    }

    /// A step that may change something, however deep (nested steps and rollbacks included).
    func firstChange(in steps: [Step]) -> Step? {
        for step in steps {
            if !step.action.isReadOnly { return step }
            if let nested = firstChange(in: step.action.nestedSteps + step.rollback) { return nested }
        }
        return nil
    }

    /// A conductor's runbook (it takes the ensemble file) that changes anything takes the members' lease;
    /// node-side runbooks are fenced by the lease their conductor hands to the agent (`--lease`).
    @Test func everyConductorRunbookThatChangesAnEnsembleTakesTheMembersLease() throws {
        let runbooks = try shipped()
        #expect(runbooks.count > 30)
        var changing: [String] = []
        // A backup writes only beside the data, outside the ensemble: it must not queue behind a rolling restart.
        let writesOutsideTheEnsemble: Set = ["backup", "backup-node"]
        for runbook in runbooks where runbook.parameter(named: "ensemble") != nil && !writesOutsideTheEnsemble.contains(runbook.name) {
            guard let step = firstChange(in: runbook.steps) else { continue }
            changing.append(runbook.name)
            #expect(runbook.lease != nil, "\(runbook.name) changes the ensemble (step '\(step.id)', \(step.actionName)) but declares no lease")
        }
        #expect(changing.contains("dc-failover") && changing.contains("rolling-restart"), "\(changing)")
    }

    /// A read-only runbook (health-check, backup's reading) takes no lease: it must not queue behind a
    /// long rolling restart, nor stop one.
    @Test func aReadOnlyRunbookTakesNoLease() throws {
        for runbook in try shipped() where firstChange(in: runbook.steps) == nil {
            #expect(runbook.lease == nil, "\(runbook.name) changes nothing but declares a lease")
        }
    }
}
