/*
 * restab.c - zeroed tables in their own mappings (restab.h).
 */
#include "lib/restab.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static bool resident = true;

void
restab_set_resident(bool on)
{
	resident = on;
}

bool
restab_resident(void)
{
	return resident;
}

void *
restab_new(size_t n, size_t size)
{
	void *p;

	if (size == 0 || n > SIZE_MAX / size || n * size == 0)
		return NULL;
	/*
	 * Its own mapping, not the heap: after a reload the old table goes
	 * back to the system (glibc would keep a freed heap block, and its
	 * dynamic mmap threshold moves the next one onto the heap).
	 */
	p = mmap(NULL, n * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* a fresh anonymous mapping reads as zero; resident: fault it in now */
	if (resident)
		memset(p, 0, n * size);
	return p;
}

void
restab_free(void *p, size_t n, size_t size)
{
	if (p != NULL)
		munmap(p, n * size);
}
