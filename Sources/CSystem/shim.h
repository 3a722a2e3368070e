/* Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without. */
#include <spawn.h>
#include <fcntl.h>

extern int pipe2(int pipefd[2], int flags);
/* glibc 2.30+: the calling thread's id, which setpriority(PRIO_PROCESS, tid, …) applies to alone on Linux. */
extern pid_t gettid(void);

/* Values from glibc's <spawn.h> and <fcntl.h> (Linux, all architectures). */
#define PGB_POSIX_SPAWN_SETSID 0x80
#define PGB_F_SETPIPE_SZ 1031
#define PGB_F_GETPIPE_SZ 1032

/* Starts writeback of a file range without waiting for it, so a final fsync has little left to do. */
extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);
#define PGB_SYNC_FILE_RANGE_WRITE 2

/* glibc 2.34+: close every descriptor from `from` up in the child, so no socket or pipe of ours leaks into it. */
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

/* Open-file-description locks (Linux 3.15+): like flock, tied to the open file and dropped when the
 * holder exits, but F_OFD_GETLK can ask whether one is held without taking it. */
#define PGB_F_OFD_GETLK 36
#define PGB_F_OFD_SETLK 37
