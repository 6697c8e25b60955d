//go:build linux && cgo

package backend

/*
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VGGKIT_TUNABLE "glibc.malloc.hugetlb=1"

// Runs when the program loads, before the Go runtime starts: glibc reads its tunables only
// from the environment at start-up, so the program starts itself again, once, with
// glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES (transparent huge pages for malloc).
// XLA's CPU runtime allocates each step's buffers afresh, and glibc maps the large ones
// anew every time: in 4 KB pages that was about 18,000 page faults per training step at
// 32 px, batch 128 (a quarter of the step); in 2 MB pages, a few dozen. Nothing is run
// twice: the first image of the program is replaced before it has done anything.
// VGGKIT_MALLOC=0, or a GLIBC_TUNABLES that already names the tunable, skips it.
__attribute__((constructor)) static void vggkit_huge_pages(int argc, char **argv, char **envp) {
#ifdef __GLIBC__
	const char *off = getenv("VGGKIT_MALLOC");
	if ((off != NULL && strcmp(off, "0") == 0) || argv == NULL || argv[0] == NULL) return;
	const char *old = getenv("GLIBC_TUNABLES");
	if (old != NULL && strstr(old, "glibc.malloc.hugetlb") != NULL) return;
	size_t n = (old != NULL ? strlen(old) + 1 : 0) + sizeof(VGGKIT_TUNABLE);
	char *val = malloc(n);
	if (val == NULL) return;
	strcpy(val, "");
	if (old != NULL && old[0] != '\0') {
		strcat(val, old);
		strcat(val, ":");
	}
	strcat(val, VGGKIT_TUNABLE);
	char *saved = old != NULL ? strdup(old) : NULL;
	if (setenv("GLIBC_TUNABLES", val, 1) == 0) {
		// The binary's own path, so that the process keeps its name (top, ps -o comm):
		// exec of /proc/self/exe would name it "exe".
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n > 0) {
			self[n] = '\0';
			execv(self, argv);
		}
		execv("/proc/self/exe", argv);  // the binary was deleted or moved since it started
		// No /proc, or not executable again: carry on as started.
		if (saved != NULL) setenv("GLIBC_TUNABLES", saved, 1); else unsetenv("GLIBC_TUNABLES");
	}
	free(saved);
	free(val);
#endif
}
*/
import "C"

import (
	"os"
	"strings"
)

// HugePages reports whether this process runs with glibc's transparent huge pages for
// malloc (glibc.malloc.hugetlb in GLIBC_TUNABLES), which vggkit sets up when a program
// that imports it loads (see the constructor above), unless VGGKIT_MALLOC=0.
func HugePages() bool {
	return strings.Contains(os.Getenv("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=1")
}
