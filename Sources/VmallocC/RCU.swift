import CVmallocKernel
import Vmalloc

// RCU behind <linux/rcupdate.h>: kvfree after a real grace period (liburcu), read-side sections.

@c @implementation
public func vmc_kvfree_rcu(_ head: UnsafeMutableRawPointer?, _ p: UnsafeMutableRawPointer?) {
    system.kvfree_rcu(p)
}

@c @implementation
public func vmc_synchronize_rcu() { system.synchronize_rcu() }

@c @implementation
public func vmc_rcu_barrier() { system.rcu_barrier() }

@c @implementation
public func vmc_rcu_read_lock() { rcu_read_lock() }

@c @implementation
public func vmc_rcu_read_unlock() { rcu_read_unlock() }
