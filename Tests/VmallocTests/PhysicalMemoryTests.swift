import Glibc
import Testing

@testable import Vmalloc

/// The memfds behind every node's frames.
@Suite struct PhysicalMemoryTests {
    @Test func memfdsAreCloseOnExec() throws {
        let sys = try makeSystem(nodes: 2, mib: 8)
        for fd in sys.memory.fds { #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0) }
    }
}
