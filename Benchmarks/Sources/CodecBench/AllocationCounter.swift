#if canImport(Glibc)
import Glibc
#endif

/// Counts Swift heap allocations (every array, string, class and closure-context allocation goes
/// through `swift_allocObject`), to show that encoding into a reused ProtoWriter allocates
/// nothing. It uses the Swift runtime's documented-for-Instruments hook: the `_swift_allocObject`
/// function pointer, honoured once `_swift_enableSwizzlingOfAllocationAndRefCountingFunctions_
/// forInstrumentsOnly` is set. `main.swift` calibrates it with a known allocation first.
typealias AllocObjectFunction = @convention(c) (UnsafeRawPointer?, Int, Int) -> UnsafeMutableRawPointer?

nonisolated(unsafe) var swiftAllocations = 0
nonisolated(unsafe) var originalAllocObject: AllocObjectFunction? = nil
nonisolated(unsafe) var swizzlingFlag: UnsafeMutablePointer<Bool>? = nil

func countingAllocObject(_ metadata: UnsafeRawPointer?, _ size: Int, _ alignMask: Int) -> UnsafeMutableRawPointer? {
    swiftAllocations &+= 1
    return originalAllocObject!(metadata, size, alignMask)
}

/// Counts the Swift heap allocations `body` makes. The hook is on only while `body` runs: in
/// swizzling mode the runtime also routes retain/release through adapters that mishandle some
/// bridged values (Foundation strings), so the rest of the program runs with it off.
func countingAllocations(_ body: () throws -> Void) rethrows -> Int {
    let before = swiftAllocations
    swizzlingFlag?.pointee = true
    defer { swizzlingFlag?.pointee = false }
    try body()
    return swiftAllocations - before
}

/// Installs the counter (off until ``countingAllocations(_:)``); false if the runtime has no hook.
func installAllocationCounter() -> Bool {
    guard let slot = dlsym(nil, "_swift_allocObject"),
          let enable = dlsym(nil, "_swift_enableSwizzlingOfAllocationAndRefCountingFunctions_forInstrumentsOnly")
    else { return false }
    let function = slot.assumingMemoryBound(to: AllocObjectFunction.self)
    originalAllocObject = function.pointee
    function.pointee = countingAllocObject
    swizzlingFlag = enable.assumingMemoryBound(to: Bool.self)
    return true
}
