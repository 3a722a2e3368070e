/* ZSTD_createThreadPool and ZSTD_CCtx_refThreadPool sit in zstd.h's "experimental" section (exported by
 * libzstd 1.5): a pool created by a lowered-priority thread gives libzstd's workers that priority. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
