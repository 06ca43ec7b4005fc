/* The libc surface panllama binds. Regenerate with the command in ../README.md. */
#define _GNU_SOURCE            /* sched_setaffinity, sched_getaffinity, sched_getcpu */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
