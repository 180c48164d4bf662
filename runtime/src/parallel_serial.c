/* parallel_serial.c - tidal_parallel_for of the bare-metal runtime, which
 * has no threads: every parallel loop runs on the caller's thread, so the
 * same objects link and compute the same numbers. */
#include "tidalrt.h"

void tidal_parallel_for(struct tidal_pool *pool, tidal_task task,
                        void *context, int64_t n) {
  (void)pool;
  if (n > 0)
    task(context, 0, n);
}
