/* A full disk on demand, for tests: LD_PRELOAD this into a Luna process.
 *
 * Every write(2)-family call and every file growth (ftruncate, fallocate) on a file
 * under $LUNA_TEST_ENOSPC_UNDER spends from a budget of $LUNA_TEST_ENOSPC_AFTER bytes;
 * the call that would overspend fails with ENOSPC, as on a full disk, and so does
 * every one after it. It sits below SQLite (SQLCipher's pwrite64 and ftruncate64) and
 * below Python's own file writes alike, so each operation meets a full disk wherever
 * it writes. statvfs(3) on such a path reports only what is left of the budget, as a
 * full disk's would (Luna reads it to tell a full disk from a damaged file).
 * With $LUNA_TEST_ENOSPC_QUOTA set it is a used-up quota instead: the call fails with
 * EDQUOT and statvfs(3) shows the disk's real free space, as a quota leaves it.
 * With $LUNA_TEST_ENOSPC_REPORT set, the process says on stderr how many
 * bytes it wrote there (a test sizes its budgets from that).
 * Built by tests/test_disk_full.py with the system's C compiler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int ready;
static const char *under;
static long long budget = -1;
static long long spent;
static int quota;

static void init(void) {
    if (ready) return;
    ready = 1;
    under = getenv("LUNA_TEST_ENOSPC_UNDER");
    const char *after = getenv("LUNA_TEST_ENOSPC_AFTER");
    if (under && after) budget = atoll(after);
    quota = getenv("LUNA_TEST_ENOSPC_QUOTA") != NULL;
}

static int is_under(int fd) {
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = 0;
    return strncmp(path, under, strlen(under)) == 0;
}

static int refuse(int fd, long long count) {
    init();
    if (budget < 0 || count <= 0 || !is_under(fd)) return 0;
    if (count > budget) { budget = 0; errno = quota ? EDQUOT : ENOSPC; return 1; }
    budget -= count;
    spent += count;
    return 0;
}

__attribute__((destructor)) static void report(void) {
    if (!getenv("LUNA_TEST_ENOSPC_REPORT")) return;
    char line[64];
    int n = snprintf(line, sizeof line, "\nenospc: spent %lld\n", spent);
    syscall(SYS_write, 2, line, n);
}

#define REAL(name) static __typeof__(name) *real; if (!real) real = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write); if (refuse(fd, count)) return -1; return real(fd, buf, count);
}
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL(pwrite); if (refuse(fd, count)) return -1; return real(fd, buf, count, offset);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
    REAL(pwrite64); if (refuse(fd, count)) return -1; return real(fd, buf, count, offset);
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
    REAL(writev);
    long long total = 0;
    for (int i = 0; i < n; i++) total += iov[i].iov_len;
    if (refuse(fd, total)) return -1;
    return real(fd, iov, n);
}
int fallocate(int fd, int mode, off_t offset, off_t len) {
    REAL(fallocate); if (refuse(fd, len)) return -1; return real(fd, mode, offset, len);
}
int posix_fallocate(int fd, off_t offset, off_t len) {
    REAL(posix_fallocate); init();
    if (budget >= 0 && is_under(fd) && len > budget) { budget = 0; return quota ? EDQUOT : ENOSPC; }
    return real(fd, offset, len);
}
int ftruncate(int fd, off_t length) {
    REAL(ftruncate);
    off_t size = lseek(fd, 0, SEEK_END);
    if (length > size && refuse(fd, length - size)) return -1;
    return real(fd, length);
}
int ftruncate64(int fd, off64_t length) {
    REAL(ftruncate64);
    off64_t size = lseek64(fd, 0, SEEK_END);
    if (length > size && refuse(fd, length - size)) return -1;
    return real(fd, length);
}

static void shrink(const char *path, struct statvfs *info) {
    init();
    if (budget < 0 || quota || strncmp(path, under, strlen(under)) != 0) return;
    unsigned long size = info->f_frsize ? info->f_frsize : 4096;
    info->f_bavail = info->f_bfree = (fsblkcnt_t)(budget / size);
}
int statvfs(const char *path, struct statvfs *info) {
    REAL(statvfs); int rc = real(path, info); if (rc == 0) shrink(path, info); return rc;
}
int statvfs64(const char *path, struct statvfs64 *info) {
    REAL(statvfs64); int rc = real(path, info);
    if (rc == 0) shrink(path, (struct statvfs *)info);
    return rc;
}
