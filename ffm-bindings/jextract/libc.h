/* The libc surface panllama binds. Regenerate with the command in ../README.md. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
