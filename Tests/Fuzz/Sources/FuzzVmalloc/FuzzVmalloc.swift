import CFuzzer
import Glibc
import Logging
import Vmalloc

/// One small system for the whole run: 2 nodes of 16 MiB, no kswapd (its thread would make
/// runs depend on timing), warnings discarded (the fuzzer provokes thousands of them).
let system: MemorySystem = {
    var c = MemorySystem.Configuration()
    c.nodes = 2
    c.memoryPerNode = 16 << 20
    c.vmallocSize = 256 << 20
    c.kswapd = false
    c.logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
    do {
        return try MemorySystem(c)
    } catch {
        fatalError("FuzzVmalloc: cannot build the system: \(error)")
    }
}()

/// One input: decode the bytes into API calls on `system`, then check that nothing was lost.
/// (`LLVMFuzzerTestOneInput`.)
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var session = Session(system, UnsafeRawBufferPointer(start: data, count: count))
    session.run()
    return 0
}

/// SwiftPM binds an executable's `main` to this module's entry point, so the entry point runs
/// libFuzzer's driver itself with the process arguments.
@main
enum FuzzVmalloc {
    static func main() {
        _ = system
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
    }
}
