import Foundation

/// Runs blocking work (network waits) on one thread per element.
///
/// Not `concurrentPerform`: it runs at most one iteration per core, so on a 2-core node the third server
/// of an ensemble would wait for the first two; these waits use no CPU and should all overlap.
public enum Parallel {
    public static func map<Element, Value>(_ elements: [Element], _ transform: @escaping @Sendable (Element) -> Value) -> [Value] {
        if elements.count == 1 { return [transform(elements[0])] }
        let slots = ResultSlots<Value>(count: elements.count)
        let group = DispatchGroup()
        for (index, element) in elements.enumerated() {
            group.enter()
            let box = UncheckedBox(element)
            Thread.detachNewThread {
                slots.set(index, transform(box.value))
                group.leave()
            }
        }
        group.wait()
        return slots.values
    }
}

/// Carries a value into a thread closure; the value is only read there.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Fixed slots written from concurrent iterations.
final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
