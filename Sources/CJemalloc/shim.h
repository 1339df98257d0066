// jemalloc's public API (mallctl and friends) as installed by Debian's libjemalloc-dev.
#include <jemalloc/jemalloc.h>
