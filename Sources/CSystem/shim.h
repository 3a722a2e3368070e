/* Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without. */
#include <spawn.h>
#include <fcntl.h>

extern int pipe2(int pipefd[2], int flags);

/* Values from glibc's <spawn.h> and <fcntl.h> (Linux, all architectures). */
#define PGB_POSIX_SPAWN_SETSID 0x80
#define PGB_F_SETPIPE_SZ 1031
