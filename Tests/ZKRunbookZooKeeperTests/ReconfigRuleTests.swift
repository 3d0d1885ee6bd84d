import Testing
import ZKRunbookZooKeeper

/// ZooKeeper's rule for a reconfig, decided in memory: a majority of the old voters and of the new ones serve.
struct ReconfigRuleTests {
    @Test func addingTheFourthVoterNeedsThreeOfTheNewFourServing() {
        #expect(QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2, 3, 4], serving: [1, 2, 4]) == nil)
        let refusal = QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2, 3, 4], serving: [1, 2])
        #expect(refusal == "the new voters (1,2,3,4) need 3 serving; 2 do (1,2)")
    }

    @Test func removingAServerIsJudgedAgainstTheOldAndTheNewVoters() {
        // 5 -> 4 with two down: the old five still have three, the new four have only two of three needed.
        let refusal = QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3, 4, 5], newVoters: [1, 2, 3, 4], serving: [1, 2, 5])
        #expect(refusal == "the new voters (1,2,3,4) need 3 serving; 2 do (1,2)")
        // 3 -> 2 with the leaving one the only one down: both majorities hold.
        #expect(QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2], serving: [1, 2]) == nil)
        // Both sides short are both named.
        let both = QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2], serving: [1])
        #expect(both == "the old voters (1,2,3) need 2 serving; 1 do (1); the new voters (1,2) need 2 serving; 1 do (1)")
        #expect(QuorumMath.reconfigRefusal(oldVoters: [1], newVoters: [], serving: [1]) == "the new configuration has no voter")
    }
}
