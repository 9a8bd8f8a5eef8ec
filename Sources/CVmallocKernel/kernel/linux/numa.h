/* <linux/numa.h>: node numbering. MAX_NUMNODES is the x86_64 distribution kernels'
 * (CONFIG_NODES_SHIFT=10); nr_node_ids is the memory system's node count (real nodes, or the
 * emulated ones of VMALLOC_NODES), read through a call rather than the kernel's variable. */
#ifndef _VMALLOC_LINUX_NUMA_H
#define _VMALLOC_LINUX_NUMA_H

#define NODES_SHIFT 10
#define MAX_NUMNODES (1 << NODES_SHIFT)
#define NUMA_NO_NODE (-1)
#define NUMA_NO_MEMBLK (-1)

/* The number of nodes of the memory system (the kernel's nr_node_ids). */
unsigned int __vmalloc_nr_node_ids(void);
#define nr_node_ids (__vmalloc_nr_node_ids())

static inline int numa_valid_node(int nid) { return nid >= 0 && nid < MAX_NUMNODES; }

#endif
