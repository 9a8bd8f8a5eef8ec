import CShim
import CVmallocBench
import Foundation

/// Runs combinations in a re-executed copy of this program. Allocators that replace malloc
/// (jemalloc, mimalloc) can only be measured this way, preloaded before the Swift runtime's
/// first allocation; the syscall census runs every contender this way, under ptrace.
///
/// `vmalloc-bench --child-contender KIND` serves: it reads `RunRequest`s as JSON lines on stdin
/// and answers each with a `RunResult` line on stdout, so one child (one heap, as in-process
/// contenders have) serves a whole suite. With `--child-request JSON` it runs that one request
/// and exits as soon as it has measured (the census child: its teardown would only be traced).
final class ChildProcess {
    private let process = Process()
    private let requests = Pipe()
    private let results: UnsafeMutablePointer<FILE>

    /// This program's path, for re-execution.
    static let executable: String =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments[0]

    /// Starts a serving child for `kind`, its allocator preloaded.
    init(_ kind: ContenderKind) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["--child-contender", kind.rawValue]
        process.environment = Self.environment(kind)
        process.standardInput = requests
        process.standardOutput = output
        try process.run()
        guard let results = fdopen(dup(output.fileHandleForReading.fileDescriptor), "r") else {
            process.terminate()
            throw ChildFailure(description: "fdopen: \(String(cString: strerror(errno)))")
        }
        self.results = results
    }

    deinit {
        try? requests.fileHandleForWriting.close()
        process.waitUntilExit()
        fclose(results)
    }

    /// Measures `request` in the child.
    func run(_ request: RunRequest) throws -> RunResult {
        try requests.fileHandleForWriting.write(contentsOf: try JSONEncoder().encode(request) + Data("\n".utf8))
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        guard getline(&line, &capacity, results) > 0, let line else {
            throw ChildFailure(description: "\(request.contender) child ended without a result")
        }
        return try JSONDecoder().decode(RunResult.self, from: Data(String(cString: line).utf8))
    }

    /// Runs `request` in a fresh child under ptrace and returns its result with the number of
    /// syscalls its threads made during the timed loop.
    static func census(_ request: RunRequest) throws -> (RunResult, syscalls: SyscallCensus) {
        let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        let argv = [executable, "--child-contender", request.contender.rawValue, "--child-request", json]
        let envp = environment(request.contender).map { "\($0.key)=\($0.value)" }
        guard let out = tmpfile() else {
            throw ChildFailure(description: "tmpfile: \(String(cString: strerror(errno)))")
        }
        defer { fclose(out) }
        var exitStatus: Int32 = 0
        var byNumber = [UInt64](repeating: 0, count: SyscallCensus.slots)
        let count = withCStrings(argv) { argv in
            withCStrings(envp) { envp in
                byNumber.withUnsafeMutableBufferPointer {
                    vmbench_census(executable, argv, envp, fileno(out), &exitStatus, $0.baseAddress, UInt32($0.count))
                }
            }
        }
        if exitStatus > 128 { throw ChildFailure(description: "census child killed by signal \(exitStatus - 128)") }
        guard exitStatus == 0 else { throw ChildFailure(description: "census child exited with \(exitStatus)") }
        guard count >= 0 else {
            throw ChildFailure(description: "ptrace census failed: \(String(cString: strerror(Int32(-count))))")
        }
        rewind(out)
        let data = FileHandle(fileDescriptor: fileno(out), closeOnDealloc: false).readDataToEndOfFile()
        let census = SyscallCensus(total: Int(count), byNumber: byNumber)
        return (try JSONDecoder().decode(RunResult.self, from: data), census)
    }

    /// The child's side: serve requests from stdin, or run `request` alone and exit.
    static func serve(_ kind: ContenderKind, request: String?) throws {
        let contender = try kind.make().get()
        func answer(_ result: RunResult) {
            var result = result
            if let symbol = kind.witnessSymbol {
                result.allocatorVerified = dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol) != nil
            }
            FileHandle.standardOutput.write((try! JSONEncoder().encode(result)) + Data("\n".utf8))
        }
        guard let request else {
            while let line = readLine() {
                Runner.measure(
                    try JSONDecoder().decode(RunRequest.self, from: Data(line.utf8)), on: contender, then: answer)
            }
            return
        }
        Runner.measure(try JSONDecoder().decode(RunRequest.self, from: Data(request.utf8)), on: contender) {
            answer($0)
            _exit(0)
        }
    }

    private static func environment(_ kind: ContenderKind) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = kind.preload
        return environment
    }

    /// Calls `body` with a NULL-terminated C array of `strings`.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

/// A child run that did not produce a result.
struct ChildFailure: Error, CustomStringConvertible {
    let description: String
}
