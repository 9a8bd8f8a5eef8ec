import Glibc
import Vmalloc

// A persistent key-value store whose page cache lives in vmalloc memory, run on a 32 MiB system
// with 48 MiB of data, then squeezed by other allocations so that reclaim writes the cache back.
// VMALLOC_PAGE_TABLE_SCOPE=legacy runs it with page tables allocated GFP_KERNEL whatever the mask,
// as the kernel did before "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc".
var config = MemorySystem.Configuration.fromEnvironment()
config.nodes = 1
config.memoryPerNode = 32 << 20
config.vmallocSize = 1 << 30
config.kswapd = false
let sys = try MemorySystem(config)
let legacy = getenv("VMALLOC_PAGE_TABLE_SCOPE").map { String(cString: $0) } == "legacy"

var template = Array("/tmp/writeback-cache.XXXXXX".utf8CString)
guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) })
else { fatalError("mkdtemp: errno \(errno)") }
let path = dir + "/store.dat"
defer {
    unlink(path)
    rmdir(dir)
}
print(
    "store file \(path); page tables: \(legacy ? "legacy (GFP_KERNEL always)" : "scope from the caller's mask (seed)")")

/// Stop with the checker's reports: lockdep reports the first allocation that could recurse,
/// long before memory pressure turns it into a deadlock, and so does this program.
func stopIfReported() {
    let reports = sys.lockdepReports
    guard !reports.isEmpty else { return }
    print("fs_reclaim checker: \(reports.count) report(s):")
    for r in reports { print("  \(r)") }
    print("WritebackCache: the write path can recurse into FS reclaim holding store_lock; stopping before it does")
    exit(1)
}

let keys = 48 << 20 / Store.recordSize
let store = try Store(path: path, capacity: keys, system: sys)
func value(_ key: Int, round: UInt64) -> UInt64 { UInt64(key) &* 2_654_435_761 &+ round &+ 1 }

// 1. Write 48 MiB of records through a cache that cannot hold it: the writer makes room itself.
for key in stride(from: 0, to: keys, by: 1) {
    try store.put(key, value(key, round: 0))
    if key % Store.recordsPerBlock == 0 { stopIfReported() }
}
stopIfReported()
print("wrote \(keys) records (48 MiB); writebacks so far: \(store.writebacks)")

// 2. Pressure from elsewhere: GFP_KERNEL buffers allocated outside the store lock. Their reclaim
// enters the FS shrinker, which takes the lock and writes dirty blocks back.
for key in stride(from: 0, to: keys / 4, by: 7) { try store.put(key, value(key, round: 1)) }
var ballastMiB = 1
do {
    var ballast = try VmallocBuffer(byteCount: 1 << 20, gfp: GFP_KERNEL | __GFP_NOWARN, system: sys)
    while ballastMiB < 12 {
        try ballast.resize(to: (ballastMiB + 1) << 20)
        ballastMiB += 1
    }
} catch {
    print("ballast stopped at \(ballastMiB) MiB: \(error)")
}
let afterPressure = store.writebacks
print("grew a ballast buffer to \(ballastMiB) MiB; writebacks: \(afterPressure); shrinker: \(store.shrinkerStats!)")

// 3. Everything reads back, then again from the file alone after a reopen.
func verify(_ s: Store) throws -> Int {
    var wrong = 0
    for key in 0..<keys {
        let round: UInt64 = key < keys / 4 && key % 7 == 0 ? 1 : 0
        if try s.get(key) != value(key, round: round) { wrong += 1 }
    }
    return wrong
}
let wrongCached = try verify(store)
try store.close()
let reopened = try Store(path: path, capacity: keys, system: sys)
let wrongReopened = try verify(reopened)
try reopened.close()
stopIfReported()
sys.vm_unmap_aliases()
print(
    "records wrong: \(wrongCached) through the cache, \(wrongReopened) after reopening; "
        + "vmalloc used now: \(sys.meminfo().vmallocUsed) bytes"
)
guard wrongCached == 0, wrongReopened == 0 else { fatalError("records were lost") }
guard afterPressure.shrinker > 0 else { fatalError("the pressure never reached the shrinker") }
print("WritebackCache: ok (no fs_reclaim report; the shrinker wrote back \(afterPressure.shrinker) blocks)")
