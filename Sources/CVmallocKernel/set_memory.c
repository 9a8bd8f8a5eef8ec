// set_memory_ro/rw/x/nx under their kernel names (arch/x86/mm/pat/set_memory.c), over the
// ABI's one call; the memory system checks that the range lies in one live area.
#define _GNU_SOURCE
#include <linux/set_memory.h>

#include <vmalloc_abi.h>

enum { SET_RO = 0, SET_RW = 1, SET_X = 2, SET_NX = 3 };

int set_memory_ro(unsigned long addr, int numpages) { return vmc_set_memory(addr, numpages, SET_RO); }

int set_memory_rw(unsigned long addr, int numpages) { return vmc_set_memory(addr, numpages, SET_RW); }

int set_memory_x(unsigned long addr, int numpages) { return vmc_set_memory(addr, numpages, SET_X); }

int set_memory_nx(unsigned long addr, int numpages) { return vmc_set_memory(addr, numpages, SET_NX); }

int set_memory_rox(unsigned long addr, int numpages)
{
    int ret = vmc_set_memory(addr, numpages, SET_RO);

    return ret ? ret : vmc_set_memory(addr, numpages, SET_X);
}
