#include <fcgiapp.h>
/* The FastCGI module's workers wait with epoll (EPOLLEXCLUSIVE); Swift's Glibc module does not export it. */
#include <sys/epoll.h>
